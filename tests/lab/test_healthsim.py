"""The lab's health tables, per platform, read by the health probe's own discovery and reading.

Pure (no snmpd): each platform's tables, as the agent would serve them for an uplink of ifIndex
5, are cut into the probe's walked ``Table`` and go through ``plan.discover`` / ``plan.read``, so
a layout the probe cannot read fails here first. The lab tier (tests/probes/health/
test_health_lab.py) proves the same through the real snmpd and the real daemon.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from govnet.errors import LabError
from govnet.inventory.models import Device
from govnet.lab import healthagent, healthsim, kfaults, snmpd
from govnet.lab.topology import UPLINK_IFNAME, build_tree
from govnet.probes.health.defs import by_name, vendor_for
from govnet.probes.health.plan import discover, discovery_columns, read
from govnet.probes.health.readings import DeviceHealth
from govnet.probes.health.walk import Table
from govnet.probes.snmp.ber import Oid, Value, parse_oid

UPLINK = 5
ERRORS = 10
SECRETS = snmpd.SnmpSecrets("labRO", "labv3", "authpass-1", "privpass-1")


def value(kind: str, text: str) -> Value:
    if kind == "string":
        return text.encode()
    if kind == "objectid":
        return parse_oid(text)
    return int(text)


def served(platform: str, faults: dict[str, float] | None = None, now: float = 1000.0) -> dict[Oid, Value]:
    tables = healthsim.profile(platform).tables("u001")
    cells = healthagent.table(tables, UPLINK, ERRORS, faults or {}, now)
    return {parse_oid(oid): value(kind, text) for oid, (kind, text) in cells.items()}


def walked(rows: dict[Oid, Value], columns: list[Oid]) -> Table:
    table: Table = {c: {} for c in columns}
    for oid, v in rows.items():
        for c in columns:
            if oid[: len(c)] == c:
                table[c][oid[len(c) :]] = v
    return table


def health(platform: str, faults: dict[str, float] | None = None) -> DeviceHealth:
    """Discovery on the healthy tables, then one cycle's reading of the (faulted) tables."""
    vendor = vendor_for(parse_oid(healthsim.profile(platform).sys_object_id))
    assert vendor is not None
    plan = discover(vendor, walked(served(platform), discovery_columns(vendor)), {UPLINK: UPLINK_IFNAME})
    return read(plan, "u001", served(platform, faults), {"serial": healthsim.serial_of("u001", platform)})


EXPECTED: dict[str, dict[str, Any]] = {
    "huawei_vrp": {
        "vendor": "huawei",
        "cpu": {"MPU Board 0": 0.12},
        "memory": {"MPU Board 0": 0.4},
        "temperature": {"MPU Board 0": 41.0},
        "fans": {"0.0": 1.0},
        "psus": {"0.1": 1.0},
        "optics": [("uplink", -5.2, -2.1, -20.0, 0.5, -8.0, 1.0)],
    },
    "h3c_comware": {
        "vendor": "h3c",
        "cpu": {"Board 1": 0.09},
        "memory": {"Board 1": 0.57},
        "temperature": {"Board 1": 38.0},
        "fans": {"Fan 1": 1.0},
        "psus": {"Power Supply 1": 1.0},
        "optics": [("uplink", -4.8, -2.3, -20.0, 0.0, -8.0, 1.0)],
    },
    "cisco_ios": {
        "vendor": "cisco",
        "cpu": {"1": 0.07},
        "memory": {"Processor": 0.3, "I/O": 0.25},
        "temperature": {"SW#1, Sensor#1, GREEN": 36.0},
        "fans": {"Switch#1, Fan#1": 1.0},
        "psus": {"Sw1, PSU1": 1.0},
        "optics": [("uplink", -4.8, -2.3, -20.0, 0.5, -8.0, 1.0)],
    },
}


def summary(h: DeviceHealth) -> dict[str, object]:
    return {
        "vendor": h.vendor,
        "cpu": dict(h.cpu),
        "memory": dict(h.memory),
        "temperature": dict(h.temperature),
        "fans": dict(h.fans),
        "psus": dict(h.psus),
        "optics": [
            (o.ifname, o.rx_dbm, o.tx_dbm, o.rx_low_dbm, o.rx_high_dbm, o.tx_low_dbm, o.tx_high_dbm)
            for o in h.optics
        ],
    }


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_each_platform_serves_what_its_vendor_definitions_read(platform: str) -> None:
    h = health(platform)
    assert summary(h) == EXPECTED[platform]
    assert h.mismatches() == {"serial": False}
    chassis = [e for e in h.entities if e.cls == 3]
    assert [(e.model, e.serial) for e in chassis] == [
        (healthsim.profile(platform).model, healthsim.serial_of("u001", platform))
    ]
    assert [i.values["in_errors"] for i in h.interfaces] == [ERRORS]


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_each_fault_moves_its_reading_on_every_platform(platform: str) -> None:
    faults = {"cpu-high": 990.0, "optics-low": 990.0, "errors": 998.0}
    h = health(platform, faults)
    assert max(h.cpu.values()) == 0.97
    assert [(o.rx_dbm, o.rx_low_dbm) for o in h.optics] == [(-28.0, -20.0)]
    assert [i.values["in_errors"] for i in h.interfaces] == [ERRORS + 2 * healthagent.ERRORS_PER_SECOND]
    rest = summary(h) | {"cpu": summary(health(platform))["cpu"], "optics": EXPECTED[platform]["optics"]}
    assert rest == EXPECTED[platform]  # nothing else moved


def test_every_inventory_platform_has_a_profile_with_its_vendor() -> None:
    platforms = set(Device.model_fields["platform"].annotation.__args__)  # type: ignore[union-attr]
    assert set(healthsim.PROFILES) == platforms
    for p in healthsim.PROFILES.values():
        assert vendor_for(parse_oid(p.sys_object_id)) is p.vendor is by_name(p.vendor.name)
    with pytest.raises(LabError, match="no device health for platform 'junos'"):
        healthsim.profile("junos")


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_every_cell_is_under_a_subtree_the_agent_registers(platform: str) -> None:
    p = healthsim.profile(platform)
    cells = healthagent.table(p.tables("u001"), UPLINK, 0, {}, 0.0)
    subtrees = [healthagent.key(s) for s in p.subtrees]
    assert [o for o in cells if not any(healthagent.key(o)[: len(s)] == s for s in subtrees)] == []


def test_agent_config_registers_the_platforms_subtrees_and_sysobjectid(tmp_path: Path) -> None:
    topology = build_tree("x", [("u1", "a1", ["party"])])
    settings = snmpd.AgentSettings(SECRETS, platforms={"u1": "cisco_ios"})
    conf = snmpd.render_config(topology, "u1", settings, tmp_path)
    cisco = healthsim.profile("cisco_ios")
    assert f"sysObjectID .{cisco.sys_object_id}\n" in conf
    for subtree in cisco.subtrees:
        assert (
            f"pass_persist .{subtree} {sys.executable} -m govnet.lab.healthagent {tmp_path} u1 {subtree}\n"
            in conf
        )
    plain = snmpd.render_config(topology, "u1", snmpd.AgentSettings(SECRETS))
    assert "pass_persist" not in plain and "sysObjectID" not in plain


def test_the_agent_process_serves_the_written_tables_and_follows_faults(tmp_path: Path) -> None:
    """The helper as snmpd runs it (stdin/stdout), outside a namespace: ifIndex 0 (no uplink)."""
    healthsim.write_tables(tmp_path, "h3c_comware", "u001")
    cpu = "1.3.6.1.4.1.25506.2.6.1.1.1.1.6.2"
    script = f"PING\nget\n.{cpu}\n"
    run = [sys.executable, "-m", "govnet.lab.healthagent", str(tmp_path), "u001", "1.3.6.1.4.1.25506"]
    lines = subprocess.run(run, input=script, capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == ["PONG", f".{cpu}", "integer", "9"]
    healthsim.set_fault(tmp_path, "cpu-high", True)
    assert set(healthsim.faults_of(tmp_path)) == {"cpu-high"}
    lines = subprocess.run(run, input=script, capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[-1] == "97"
    healthsim.set_fault(tmp_path, "cpu-high", False)
    assert healthsim.faults_of(tmp_path) == {}


def test_the_agent_imports_nothing_heavy() -> None:
    """One helper runs per subtree and unit (a thousand in a full-city lab): the probe's modules
    (prometheus-client, pysnmp) must not be loaded into it."""
    code = "import sys, govnet.lab.healthagent; print(sorted(m for m in sys.modules if m.startswith(('govnet.probes', 'pysnmp', 'prometheus'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_health_fault_kinds_are_lab_fault_kinds() -> None:
    assert kfaults.parse_kind("optics-low") == ("optics-low", None)
    with pytest.raises(LabError, match="cpu-high takes no value"):
        kfaults.parse_kind("cpu-high=3")
