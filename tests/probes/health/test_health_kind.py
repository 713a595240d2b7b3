"""The ``health`` kind in the daemon, without a network: configured from the daemon's YAML (off
unless configured), targets carrying the inventory's facts, cycles recorded into its part, its
series on the daemon's collector, its section on the status page, and a trap flagging the unit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from govnet.inventory.loader import load
from govnet.metrics.collector import collectors
from govnet.metrics.page import render_page
from govnet.monitor.config import DaemonConfig, load_config
from govnet.monitor.record import record
from govnet.monitor.setup import Setup
from govnet.monitor.site import WatchedSite
from govnet.monitor.state import DaemonView, Tracker, Transition
from govnet.monitor.targets import snmp_targets
from govnet.monitor.traphandler import TrapHandler
from govnet.probes.base import ProbeResult, Target
from govnet.probes.health.kind import KIND
from govnet.probes.health.probe import HealthProbe, HealthReading
from govnet.probes.health.readings import DeviceHealth, Optics
from govnet.probes.health.settings import HealthSettings
from govnet.probes.registry import default_kinds
from tests.helpers import DATA

MINIMAL = DATA / "valid" / "minimal.yml"


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")


def config(tmp_path: Path, probes: dict[str, Any], inventory: Path = MINIMAL) -> DaemonConfig:
    path = tmp_path / "daemon.yml"
    body = {"inventory": str(inventory.resolve()), "allowed_networks": ["10.0.0.0/8"], "probes": probes}
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return load_config(path)


def test_health_runs_only_when_configured_and_on_uplinks_only_by_default(tmp_path: Path) -> None:
    assert not config(tmp_path, {}).enabled("health")
    on = config(tmp_path, {"health": {"interval": 30}})
    assert on.enabled("health") and on.interval("health") == 30
    settings = on.settings("health")
    assert isinstance(settings, HealthSettings) and settings.access_ports is False
    assert not config(tmp_path, {"health": {"enabled": False}}).enabled("health")
    assert config(tmp_path, {"health": {"access_ports": True}}).settings("health").access_ports is True  # type: ignore[attr-defined]


def with_facts(tmp_path: Path) -> Path:
    """The minimal inventory with one device's model and serial declared."""
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    data["units"][0]["devices"][0].update(model="S5735-L24T4X-A1", serial="2102351931DMK3000123")
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_targets_carry_uplinks_vendor_model_and_serial(tmp_path: Path) -> None:
    inventory = with_facts(tmp_path)
    cfg = config(tmp_path, {"health": {}}, inventory)
    site = WatchedSite.from_inventory(load(inventory).inventory)
    found = snmp_targets(cfg, site, site.owned, lambda ref: "test-community", KIND.device_params)
    params = {t.unit: dict(t.params) for t in found.targets}
    assert params["sz-fagaiwei"] == {
        "interfaces": (),
        "version": "v2c",
        "community": "test-community",
        "uplinks": ("GigabitEthernet0/0/24",),
        "vendor": "huawei",
        "model": "S5735-L24T4X-A1",
        "serial": "2102351931DMK3000123",
    }
    assert params["zl-wanjin"]["vendor"] == "h3c" and params["zl-wanjin"]["uplinks"] == ()
    assert "serial" not in params["zl-wanjin"]  # not declared: not checked
    assert params["core-city"]["uplinks"] == ("GigabitEthernet3/0/1",)  # the provincial interconnect
    plain = snmp_targets(cfg, site, site.owned, lambda ref: "test-community")
    assert all("uplinks" not in t.params for t in plain.targets)  # the snmp kind's are unchanged


def reading(unit: str, health: DeviceHealth | None) -> ProbeResult:
    target = Target(unit, "management", "10.40.10.11", 161)
    if health is None:
        return ProbeResult("health", target, False, "timeout")
    return HealthReading("health", target, True, health=health)


LOW = DeviceHealth(
    "sz-fagaiwei",
    "huawei",
    cpu={"MPU Board 0": 0.12},
    optics=(Optics("GigabitEthernet0/0/24", -28.0, -2.1, -20.0, 0.5),),
    expected={"serial": "X1"},
)


def daemon_view() -> DaemonView:
    site = WatchedSite.from_inventory(load(MINIMAL).inventory)
    return DaemonView(site, Tracker(site, 2), site.name, kinds=default_kinds())


def test_a_cycle_is_recorded_exported_and_shown_on_the_page() -> None:
    view = daemon_view()
    assert 'id="health"' not in render_page(view)  # not running: no section
    record(view, "health", "management", [reading("sz-fagaiwei", LOW), reading("sz-caizheng", None)])
    assert set(view.part("health")) == {"sz-fagaiwei"}
    families = {f.name: f for c in collectors(view.snapshot()) for f in c.collect()}
    rx = families["govnet_optics_rx_power_dbm"].samples
    assert [(s.labels, s.value) for s in rx] == [
        ({"unit": "sz-fagaiwei", "ifname": "GigabitEthernet0/0/24"}, -28.0)
    ]
    page = render_page(view)
    assert 'id="health"' in page and "GigabitEthernet0/0/24 rx -28.0 dBm (low alarm -20.0)" in page
    record(view, "health", "management", [reading("sz-fagaiwei", None)])
    assert not view.part("health")  # a unit that stopped answering keeps no stale values
    view.prune({"sz-caizheng"})
    assert not view.part("health")


class Host:
    """What a trap needs of the daemon (`TrapHost`), around a real `Setup`."""

    def __init__(self, setup: Setup, view: DaemonView) -> None:
        self.setup, self.view = setup, view
        self.spawned: list[Coroutine[Any, Any, Any]] = []

    def transitions(self, changes: list[Transition]) -> None:
        """Nothing to notify here."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        coro.close()  # the repoll would send SNMP: not here
        return asyncio.get_running_loop().create_future()


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    cfg = config(tmp_path, {"icmp": {"enabled": False}, "tcp": {"enabled": False}, "health": {}})
    site = WatchedSite.from_inventory(load(MINIMAL).inventory)
    setup = Setup(cfg, site, [("health", "management")], lambda ref: "test-community")
    probe = HealthProbe(HealthSettings())
    setup.probes[("health", "management")] = probe
    setup.hosts = {h: e.id for e in (*site.nodes, *site.units) for h in e.hosts}
    yield Host(setup, daemon_view())
    asyncio.run(probe.close())


@pytest.mark.parametrize("trap", ["linkDown", "linkUp", "coldStart", "warmStart"])
def test_a_trap_flags_the_unit_for_rediscovery(host: Host, trap: str) -> None:
    probe = host.setup.probes[("health", "management")]
    assert isinstance(probe, HealthProbe)
    key, other = "sz-caizheng|10.40.10.12", "sz-fagaiwei|10.40.10.11"
    for stored in (key, other):
        probe.plans.store(stored, "plan", 0.0, 100)  # type: ignore[arg-type]
    assert probe.plans.reason(key, 1.0, 200) is None
    event = SimpleNamespace(kind=trap, source_address="10.40.10.12", if_index=24, uptime=1.0)

    async def trapped() -> None:
        TrapHandler(host).on_trap(event)

    asyncio.run(trapped())
    assert probe.plans.reason(key, 1.0, 200) == f"{trap} trap"
    assert probe.plans.reason(other, 1.0, 200) is None  # only the trap's unit
