"""The health probe on the lab twin: the units' real snmpd serves plausible health tables, the
``cpu-high``, ``optics-low`` and ``errors`` faults change them, and an optics fault reaches an
Alertmanager webhook through a real Prometheus evaluating the shipped health rules.

The alert test runs the real daemon with the lab's daemon config (which turns the health kind
on); Prometheus scrapes the daemon every second with the rules' ``for`` shortened to 2 s, and
Alertmanager routes everything to a loopback webhook.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from govnet.inventory.loader import load
from govnet.lab.healthsim import serial_of
from govnet.lab.twin import load_twin
from govnet.probes.base import Target
from govnet.probes.health import HealthProbe, HealthSettings
from govnet.probes.health.readings import DeviceHealth
from tests.export.amkit import Alertmanager, webhook_receiver
from tests.exporters.exportlab import until
from tests.exporters.promkit import Prometheus, lab_speed_health_rules, prometheus_config
from tests.exporters.test_dashboards import expressions, substitute
from tests.labkit import Lab
from tests.monitor.daemonkit import DaemonProcess
from tests.monitor.daemonkit import Lab as DaemonLab
from tests.probes.probekit import module_lab


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


def huawei_unit(lab: Lab) -> str:
    """A lab unit of platform huawei_vrp: the daemon polls it for the Huawei tables the lab's
    agents serve (an H3C or Cisco unit is polled for its own vendor's, which they lack)."""
    inventory = load(Path(lab.info["inventory"])).inventory
    return next(u.id for u in inventory.units if u.device.platform == "huawei_vrp")


def test_optics_low_is_notified_through_the_daemon_prometheus_and_alertmanager(
    lab: Lab, tmp_path: Path
) -> None:
    """The lab's daemon config runs the health kind: the daemon polls the unit, exports its optics,
    Prometheus scrapes the daemon and evaluates the shipped health rules, Alertmanager notifies."""
    unit = huawei_unit(lab)
    started: list[Alertmanager | Prometheus | DaemonProcess] = []
    try:
        with webhook_receiver() as hook:
            config = DaemonLab(lab.name, lab.state, lab.info).daemon_config(tmp_path)
            daemon = DaemonProcess(config, tmp_path / "daemon.log").start()
            started.append(daemon)
            am = Alertmanager(am_config(tmp_path, hook.url), tmp_path)
            started.append(am)
            listen = daemon.base.removeprefix("http://")
            prom = Prometheus(
                prometheus_config(tmp_path, listen, lab_speed_health_rules(tmp_path), am.address), tmp_path
            )
            started.append(prom)
            until(
                lambda: prom.query(f'govnet_optics_rx_power_dbm{{unit="{unit}"}} > -10'),
                90,
                "optics healthy in Prometheus, from the daemon",
                prom.log,
            )
            assert 'id="health"' in daemon.request("/").body.decode()
            assert not prom.alerts("GovnetOpticsOutOfRange")
            dashboard_has_data(prom, unit)
            start = time.monotonic()
            lab.cli("fault", unit, "optics-low")
            note = until(lambda: hook.first(start, "GovnetOpticsOutOfRange", unit), 90, "webhook: optics")
            print(f"\noptics-low {unit} -> daemon -> webhook: {note.at - start:.1f} s")
            alert = next(a for a in note.body["alerts"] if a["labels"]["unit"] == unit)
            assert alert["labels"]["ifname"] == "uplink" and alert["labels"]["severity"] == "warning"
            assert "-28 dBm" in alert["annotations"]["description"]
            page = daemon.request("/").body.decode()
            assert "uplink rx -28.0 dBm (low alarm -20.0)" in page
            healed = time.monotonic()
            lab.cli("heal", unit)
            until(
                lambda: hook.first(healed, "GovnetOpticsOutOfRange", unit, status="resolved"),
                90,
                "webhook: resolved",
            )
    finally:
        for process in reversed(started):
            process.stop()
        lab.heal_all()
