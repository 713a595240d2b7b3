"""The health probe on the lab twin: the units' real snmpd serves plausible health tables, the
``cpu-high``, ``optics-low`` and ``errors`` faults change them, and an optics fault reaches an
Alertmanager webhook through a real Prometheus evaluating the shipped health rules.

The probe's Collector is served here by prometheus-client's HTTP server (the daemon's wiring is
the probe registry's business); Prometheus scrapes it every second with the rules' ``for``
shortened to 2 s, and Alertmanager routes everything to a loopback webhook.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from govnet.lab.healthsim import serial_of
from govnet.lab.twin import load_twin
from govnet.probes.base import Target
from govnet.probes.health import HealthProbe, HealthSettings, HealthState
from govnet.probes.health.collector import HealthCollector
from govnet.probes.health.model import DeviceHealth
from tests.export.amkit import Alertmanager, webhook_receiver
from tests.exporters.exportlab import free_port, until
from tests.exporters.promkit import Prometheus, prometheus_config
from tests.exporters.test_dashboards import expressions, substitute
from tests.helpers import ROOT
from tests.labkit import Lab
from tests.probes.probekit import module_lab

RULES = ROOT / "exporters" / "prometheus" / "govnet-health.rules.yml"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with module_lab(tmp_path_factory, "health", "h") as lab:
        yield lab


def lab_target(lab: Lab, index: int = 0) -> Target:
    twin = load_twin(lab.name, lab.state)
    unit = twin.record["units"][index]
    community = (Path(lab.info["state"]) / "secrets" / "snmp-community").read_text().strip()
    params = {
        "community": community,
        "uplinks": ["uplink"],
        "vendor": "huawei",
        "serial": serial_of(unit["node"]),
    }
    return Target(unit["id"], "intranet", unit["host"], 161, params=params)


def poll(probe: HealthProbe, target: Target) -> DeviceHealth:
    [item] = asyncio.run(probe.poll([target], 20.0))
    assert item.result.success, item.result.detail
    assert item.health is not None
    return item.health


def test_lab_faults_change_what_the_agent_serves(lab: Lab) -> None:
    target = lab_target(lab)
    probe = HealthProbe(HealthSettings(timeout=2.0))
    try:
        healthy = poll(probe, target)
        assert healthy.cpu == {"MPU Board 0": 0.12} and healthy.temperature == {"MPU Board 0": 41.0}
        assert [(o.ifname, o.rx_dbm, o.rx_low_dbm) for o in healthy.optics] == [("uplink", -5.2, -20.0)]
        assert healthy.mismatches() == {"serial": False}
        errors_before = healthy.interfaces[0].values["in_errors"]
        for kind in ("cpu-high", "optics-low", "errors"):
            lab.cli("fault", target.unit, kind)
        faulted = poll(probe, target)
        assert faulted.cpu == {"MPU Board 0": 0.97}
        assert [o.rx_dbm for o in faulted.optics] == [-28.0]
        time.sleep(0.5)  # the errors fault adds 50/s
        assert poll(probe, target).interfaces[0].values["in_errors"] > errors_before
        status = yaml.safe_load(lab.cli("status", "--json").stdout)
        assert {f["kind"] for f in status["faults"] if f["unit"] == target.unit} >= {"cpu-high", "optics-low"}
        lab.cli("heal", target.unit)
        healed = poll(probe, target)
        assert healed.cpu == {"MPU Board 0": 0.12} and [o.rx_dbm for o in healed.optics] == [-5.2]
        assert probe.plans.reason(target.unit + "|" + target.address, time.monotonic(), None) is None
    finally:
        lab.heal_all()
        asyncio.run(probe.close())


def test_a_device_health_fault_is_rejected_on_a_node(lab: Lab) -> None:
    agg = load_twin(lab.name, lab.state).record["units"][0]["agg"]
    result = lab.cli("fault", agg, "cpu-high", check=False)
    assert result.returncode == 1
    node = load_twin(lab.name, lab.state).node_of(agg)[0]
    assert result.stderr.strip().splitlines() == [
        f"govnet: cpu-high is a device-health fault: give a unit, not {node}"
    ]


def lab_speed(directory: Path) -> Path:
    data = yaml.safe_load(RULES.read_text())
    for group in data["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "2s"
    path = directory / "govnet-health.rules.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


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


@contextmanager
def serving(target: Target) -> Iterator[int]:
    """The health probe polling ``target`` every half second into a ``HealthState``, its Collector
    served on a loopback port (yielded) by prometheus-client's HTTP server."""
    state = HealthState()
    registry = CollectorRegistry()
    registry.register(HealthCollector(state))
    port = free_port()
    server, thread = start_http_server(port, "127.0.0.1", registry)
    stop = threading.Event()

    async def loop() -> None:
        probe = HealthProbe(HealthSettings(timeout=2.0))
        try:
            while not stop.is_set():
                state.record(await probe.poll([target], 10.0))
                await asyncio.sleep(0.5)
        finally:
            await probe.close()

    polling = threading.Thread(target=lambda: asyncio.run(loop()), daemon=True)
    polling.start()
    try:
        yield port
    finally:
        stop.set()
        polling.join(timeout=30)
        server.shutdown()
        thread.join(timeout=5)


def test_optics_low_is_notified_through_prometheus_and_alertmanager(lab: Lab, tmp_path: Path) -> None:
    target = lab_target(lab, 1)
    started: list[Alertmanager | Prometheus] = []
    try:
        with serving(target) as port, webhook_receiver() as hook:
            am = Alertmanager(am_config(tmp_path, hook.url), tmp_path)
            started.append(am)
            prom = Prometheus(
                prometheus_config(tmp_path, f"127.0.0.1:{port}", lab_speed(tmp_path), am.address), tmp_path
            )
            started.append(prom)
            until(
                lambda: prom.query("govnet_optics_rx_power_dbm > -10"),
                60,
                "optics healthy in Prometheus",
                prom.log,
            )
            assert not prom.alerts("GovnetOpticsOutOfRange")
            dashboard_has_data(prom, target.unit)
            start = time.monotonic()
            lab.cli("fault", target.unit, "optics-low")
            note = until(
                lambda: hook.first(start, "GovnetOpticsOutOfRange", target.unit), 90, "webhook: optics"
            )
            print(f"\noptics-low {target.unit} -> webhook: {note.at - start:.1f} s")
            alert = next(a for a in note.body["alerts"] if a["labels"]["unit"] == target.unit)
            assert alert["labels"]["ifname"] == "uplink" and alert["labels"]["severity"] == "warning"
            assert "-28 dBm" in alert["annotations"]["description"]
            healed = time.monotonic()
            lab.cli("heal", target.unit)
            until(
                lambda: hook.first(healed, "GovnetOpticsOutOfRange", target.unit, status="resolved"),
                90,
                "webhook: resolved",
            )
    finally:
        for process in reversed(started):
            process.stop()
        lab.heal_all()
