"""The health probe on the lab twin: each unit's real snmpd serves its own platform's health
tables (Huawei, H3C, Cisco: `govnet.lab.healthsim`), the ``cpu-high``, ``optics-low`` and
``errors`` faults change them on every vendor, and an optics fault on a unit of each platform
reaches an Alertmanager webhook through a real Prometheus evaluating the shipped health rules.

One real daemon (the lab's daemon config, health every 3 s) serves the module; its /metrics is
what the tests read. The alert test points a Prometheus at it (scrape every second, the rules'
``for`` shortened to 2 s) and routes every alert to a loopback webhook.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.lab import healthsim
from govnet.lab.twin import load_twin
from govnet.probes.base import Target
from govnet.probes.health import HealthProbe, HealthSettings
from govnet.probes.health.readings import DeviceHealth
from tests.export.amkit import Alertmanager, webhook_receiver
from tests.exporters.exportlab import until
from tests.exporters.promkit import Prometheus, lab_speed_health_rules, prometheus_config
from tests.exporters.test_dashboards import expressions, substitute
from tests.lab.test_healthsim import EXPECTED, summary
from tests.labkit import Lab
from tests.monitor.daemonkit import DaemonProcess, Metrics
from tests.monitor.daemonkit import Lab as DaemonLab
from tests.probes.probekit import module_lab

PLATFORMS = sorted(EXPECTED)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with module_lab(tmp_path_factory, "health", "h") as lab:
        yield lab


@pytest.fixture(scope="module")
def daemon(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """The real daemon with the lab's daemon config (which turns the health kind on)."""
    directory = tmp_path_factory.mktemp("health-daemon")
    config = DaemonLab(lab.name, lab.state, lab.info).daemon_config(directory)
    process = DaemonProcess(config, directory / "daemon.log").start()
    try:
        yield process
    finally:
        process.stop()


def unit_of(lab: Lab, platform: str) -> dict[str, Any]:
    """The first lab unit of ``platform`` (the lab covers every platform of the site first)."""
    units = DaemonLab(lab.name, lab.state, lab.info).units()
    return next(u for u in units if u["platform"] == platform)


def lab_target(lab: Lab, unit: dict[str, Any]) -> Target:
    """A target without ``vendor``: the probe finds it from the agent's sysObjectID."""
    community = (Path(lab.info["state"]) / "secrets" / "snmp-community").read_text().strip()
    params = {"community": community, "uplinks": ["uplink"], "serial": serial(unit)}
    return Target(unit["id"], "intranet", unit["host"], 161, params=params)


def serial(unit: dict[str, Any]) -> str:
    return healthsim.serial_of(unit["node"], unit["platform"])


def poll(probe: HealthProbe, target: Target) -> DeviceHealth:
    [item] = asyncio.run(probe.poll([target], 20.0))
    assert item.result.success, item.result.detail
    assert item.health is not None
    return item.health


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_probe_reads_each_platforms_tables_found_by_sysobjectid(lab: Lab, platform: str) -> None:
    probe = HealthProbe(HealthSettings(timeout=2.0))
    try:
        health = poll(probe, lab_target(lab, unit_of(lab, platform)))
    finally:
        asyncio.run(probe.close())
    assert summary(health) == EXPECTED[platform]
    assert health.mismatches() == {"serial": False}


def health_metrics(metrics: Metrics, unit: str) -> dict[str, object]:
    """The unit's health series on /metrics, in the shape of ``test_healthsim.summary``."""

    def by(name: str, label: str) -> dict[str, float]:
        return {labels[label]: value for labels, value in metrics.select(name, unit=unit)}

    optics = [
        (
            "uplink",
            *(
                metrics.get1(f"govnet_optics_{name}_dbm", unit=unit, ifname="uplink")
                for name in (
                    "rx_power",
                    "tx_power",
                    "rx_power_low",
                    "rx_power_high",
                    "tx_power_low",
                    "tx_power_high",
                )
            ),
        )
    ]
    return {
        "vendor": next(
            (labels["vendor"] for labels, _ in metrics.select("govnet_device_info", unit=unit)), ""
        ),
        "cpu": by("govnet_device_cpu_ratio", "entity"),
        "memory": by("govnet_device_memory_ratio", "entity"),
        "temperature": by("govnet_device_temperature_celsius", "sensor"),
        "fans": by("govnet_device_fan_ok", "fan"),
        "psus": by("govnet_device_psu_ok", "psu"),
        "optics": optics,
    }


def polled(daemon: DaemonProcess, unit: str) -> Metrics:
    def answered() -> Metrics | None:
        metrics = daemon.metrics()
        return metrics if metrics.select("govnet_device_cpu_ratio", unit=unit) else None

    return daemon.until(answered, 60, f"health of {unit} on the daemon's /metrics")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_daemon_exports_each_platforms_health(lab: Lab, daemon: DaemonProcess, platform: str) -> None:
    unit = unit_of(lab, platform)
    metrics = polled(daemon, unit["id"])
    assert health_metrics(metrics, unit["id"]) == EXPECTED[platform]
    profile = healthsim.profile(platform)
    [(info, _)] = metrics.select("govnet_device_info", unit=unit["id"])
    assert (info["model"], info["serial"]) == (profile.model, serial(unit))
    entities = {
        labels["serial"] for labels, _ in metrics.select("govnet_device_entity_info", unit=unit["id"])
    }
    assert serial(unit) in entities
    assert metrics.get1("govnet_device_inventory_mismatch", unit=unit["id"], field="serial") == 0.0
    assert metrics.get1("govnet_device_inventory_mismatch", unit=unit["id"], field="model") == 0.0
    assert (
        metrics.get1("govnet_interface_errors_total", unit=unit["id"], ifname="uplink", direction="in") == 0.0
    )


def readings(daemon: DaemonProcess, unit: str) -> tuple[float, float | None, float | None]:
    """(highest CPU, uplink rx dBm, uplink in-errors) of ``unit`` on /metrics."""
    metrics = daemon.metrics()
    cpu = max((v for _, v in metrics.select("govnet_device_cpu_ratio", unit=unit)), default=0.0)
    rx = metrics.get1("govnet_optics_rx_power_dbm", unit=unit, ifname="uplink")
    errors = metrics.get1("govnet_interface_errors_total", unit=unit, ifname="uplink", direction="in")
    return cpu, rx, errors


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_fault_moves_the_daemons_metric_and_heals(
    lab: Lab, daemon: DaemonProcess, platform: str
) -> None:
    unit = unit_of(lab, platform)["id"]
    polled(daemon, unit)
    cpu, rx, errors = readings(daemon, unit)
    assert (cpu, rx, errors) == (
        max(EXPECTED[platform]["cpu"].values()),
        EXPECTED[platform]["optics"][0][1],
        0.0,
    )
    try:
        for kind in ("cpu-high", "optics-low", "errors"):
            lab.cli("fault", unit, kind)
        daemon.until(
            lambda: readings(daemon, unit)[:2] == (0.97, -28.0), 30, f"{platform}: cpu and optics faulted"
        )
        first = daemon.until(lambda: readings(daemon, unit)[2], 30, f"{platform}: uplink errors counted")
        daemon.until(
            lambda: (readings(daemon, unit)[2] or 0.0) > first, 30, f"{platform}: uplink errors rising"
        )
        status = yaml.safe_load(lab.cli("status", "--json").stdout)
        assert {f["kind"] for f in status["faults"] if f["unit"] == unit} == {
            "cpu-high",
            "optics-low",
            "errors",
        }
        lab.cli("heal", unit)
        daemon.until(lambda: readings(daemon, unit) == (cpu, rx, errors), 30, f"{platform}: healed")
    finally:
        lab.heal_all()


def test_a_device_health_fault_is_rejected_on_a_node(lab: Lab) -> None:
    agg = load_twin(lab.name, lab.state).record["units"][0]["agg"]
    result = lab.cli("fault", agg, "cpu-high", check=False)
    assert result.returncode == 1
    node = load_twin(lab.name, lab.state).node_of(agg)[0]
    assert result.stderr.strip().splitlines() == [
        f"govnet: cpu-high is a device-health fault: give a unit, not {node}"
    ]


def dashboard_has_data(prom: Prometheus, unit: str) -> None:
    """Every expression of the "Device health" dashboard returns data for the lab unit."""
    values = {"unit": unit, "__rate_interval": "10s", "__interval": "2s", "__range": "300s"}
    items = [e for e in expressions() if e.board == "govnet-health"]
    assert items
    until(
        lambda: prom.query(f'unit_ifname:govnet_interface_utilisation:ratio_rate5m{{unit="{unit}"}}'),
        60,
        "utilisation recorded",
        prom.log,
    )
    for item in items:
        expr = substitute(item.expr, values)

        def data(expr: str = expr, instant: bool = item.instant) -> list[dict[str, object]]:
            return prom.query(expr) if instant else prom.query_range(expr, prom.started, time.time())

        until(data, 30, f"{item}: data for {expr}", prom.log)


def am_config(directory: Path, url: str) -> Path:
    route = {
        "receiver": "hook",
        "group_by": ["alertname", "unit"],
        "group_wait": "1s",
        "group_interval": "5s",
    }
    config = {"route": route, "receivers": [{"name": "hook", "webhook_configs": [{"url": url}]}]}
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_optics_low_is_notified_through_the_daemon_prometheus_and_alertmanager(
    lab: Lab, daemon: DaemonProcess, tmp_path: Path
) -> None:
    """The daemon polls a unit of each platform, exports their optics, Prometheus scrapes the
    daemon and evaluates the shipped health rules, Alertmanager notifies, once per unit."""
    units = [unit_of(lab, platform)["id"] for platform in PLATFORMS]
    started: list[Alertmanager | Prometheus] = []
    try:
        with webhook_receiver() as hook:
            am = Alertmanager(am_config(tmp_path, hook.url), tmp_path)
            started.append(am)
            listen = daemon.base.removeprefix("http://")
            prom = Prometheus(
                prometheus_config(tmp_path, listen, lab_speed_health_rules(tmp_path), am.address), tmp_path
            )
            started.append(prom)
            for unit in units:
                healthy = f'govnet_optics_rx_power_dbm{{unit="{unit}"}} > -10'
                until(
                    partial(prom.query, healthy),
                    90,
                    "optics healthy in Prometheus, from the daemon",
                    prom.log,
                )
            assert 'id="health"' in daemon.request("/").body.decode()
            assert not prom.alerts("GovnetOpticsOutOfRange")
            for unit in units:
                dashboard_has_data(prom, unit)
            start = time.monotonic()
            for unit in units:
                lab.cli("fault", unit, "optics-low")
            for unit in units:
                note = until(
                    partial(hook.first, start, "GovnetOpticsOutOfRange", unit), 90, "webhook: optics"
                )
                print(f"\noptics-low {unit} -> daemon -> webhook: {note.at - start:.1f} s")
                alert = next(a for a in note.body["alerts"] if a["labels"]["unit"] == unit)
                assert alert["labels"]["ifname"] == "uplink" and alert["labels"]["severity"] == "warning"
                assert "-28 dBm" in alert["annotations"]["description"]
            assert "uplink rx -28.0 dBm (low alarm -20.0)" in daemon.request("/").body.decode()
            healed = time.monotonic()
            for unit in units:
                lab.cli("heal", unit)
            for unit in units:
                resolved = partial(hook.first, healed, "GovnetOpticsOutOfRange", unit, status="resolved")
                until(resolved, 90, "webhook: resolved")
    finally:
        for process in reversed(started):
            process.stop()
        lab.heal_all()
