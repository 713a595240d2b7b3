"""Real-device truth: the health probe against recordings built from public LibreNMS data.

Each device's fact file (``tests/data/health-devices/*.yml``) transcribes what a LibreNMS test
recording holds in its health tables, and what LibreNMS' own poller reported from that same
recording (``librenms:``). The probe polls the recording built from the facts (twice: discovery,
then one GET) and must report exact values, and the values both pollers report must agree: two
independent implementations reading one device. Tables a device lacks are absent, not errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from govnet.probes.health.collector import HealthCollector, HealthState
from govnet.probes.health.defs import IF_NAME, SYS_OBJECT_ID, vendor_for
from govnet.probes.health.plan import discover, read
from govnet.probes.health.readings import DeviceHealth, Entity, Optics
from govnet.probes.health.walk import Table
from govnet.probes.snmp.ber import Oid, Value, parse_oid
from tests.probes.health import healthkit
from tests.probes.health.test_health_snmpsim import poll

DEVICES = {healthkit.facts(path)["community"]: healthkit.facts(path) for path in healthkit.REAL}
HUAWEI, CISCO, COMWARE = "real_huawei_vrp_s5720", "real_cisco_iosxe_c9300", "real_h3c_comware7"
MODEL = "S5720-56C-PWR-EI-AC"
HUAWEI_PORTS = [f"XGigabitEthernet0/0/{n}" for n in (1, 2, 3, 4)]
COMWARE_PORTS = [f"Ten-GigabitEthernet{n}" for n in ("9/0/10", "9/0/16", "8/0/14")]


HUAWEI_LIMITS = (-12.69, 2.5, -9.28, 0.99)
HUAWEI_OPTICS = (
    Optics("XGigabitEthernet0/0/1", -2.71, -2.28, *HUAWEI_LIMITS),
    Optics("XGigabitEthernet0/0/2", -2.19, -2.29, *HUAWEI_LIMITS),
    Optics("XGigabitEthernet0/0/4", -2.4, -2.2, *HUAWEI_LIMITS),
)
"""µW -> dBm; thresholds in hundredths of dBm; XGE0/0/3 has no module: -1 everywhere, no reading."""
COMWARE_OPTICS = (
    Optics("Ten-GigabitEthernet8/0/14", -7.14, -5.52, -20.0, -3.0, -9.5, -3.0),
    Optics("Ten-GigabitEthernet9/0/10", -10.05, -5.41, -20.0, -3.0, -9.5, -3.0),
)
"""Hundredths of dBm; no alarm columns, so the MIB's max/min; 9/0/16 reads 2147483647: no reading."""


def librenms(community: str, **where: str) -> list[dict[str, Any]]:
    """The fact file's LibreNMS poller readings matching ``where`` (e.g. ``cls="dbm"``)."""
    out = DEVICES[community]["librenms"]
    return [r for r in out if all(r.get(k.rstrip("_")) == v for k, v in where.items())]


def test_huawei_s5720_health_exactly(snmpsim: int) -> None:
    health = poll(snmpsim, HUAWEI, HUAWEI_PORTS, model=MODEL, serial="2102359576DMHC000120")
    assert health.vendor == "huawei"
    # only the MPU board has a CPU threshold (95); every other entity reports 0 in all columns
    assert (health.cpu, health.memory) == ({"MPU Board 0": 0.44}, {"MPU Board 0": 0.09})
    assert health.temperature == {"MPU Board 0": 42.0}
    assert (health.fans, health.psus) == ({}, {})  # no hwFanStatusTable / hwPwrStatusTable
    assert health.optics == HUAWEI_OPTICS
    assert (health.interfaces[0].ifname, dict(health.interfaces[0].values)) == (
        "XGigabitEthernet0/0/1",
        {"in_octets": 34313072, "out_octets": 38642106, "high_speed": 10000},
    )
    assert [i.ifname for i in health.interfaces] == HUAWEI_PORTS
    version = "Version 5.170 V200R010C00SPC600"
    [hardware] = [r["current"] for r in DEVICES[HUAWEI]["librenms"] if r.get("field") == "os.hardware"]
    assert hardware == MODEL  # LibreNMS' hardware for this device
    assert health.entities == (
        # entPhysicalModelName is empty on every row; the chassis' model is hwEntitySystemModel
        Entity(67108867, "HUAWEI S5720 Routing Switch", "", 3, MODEL, "2102359576DMHC000120", "", version),
        Entity(67108873, "MPU Board 0", "", 9, "", "2102359576DMHC000120", "", version),
        Entity(67190797, "POWER Card 0/PWR1", "", 9, "", "2102311BXVHVHC001493", "", ""),
    )
    assert health.mismatches() == {"model": False, "serial": False}


def test_huawei_s5720_agrees_with_librenms(snmpsim: int) -> None:
    """LibreNMS' poller on the same recording: the MPU temperature and every optical reading it
    reports (it too skips the port without a module), to the hundredth of a dBm."""
    health = poll(snmpsim, HUAWEI, HUAWEI_PORTS)
    ours = {f"{o.ifname} {d}": v for o in health.optics for d, v in (("Rx", o.rx_dbm), ("Tx", o.tx_dbm))}
    theirs = {r["descr"]: round(r["current"], 2) for r in librenms(HUAWEI, class_="dbm")}
    assert ours == theirs and len(theirs) == 6
    [temperature] = librenms(HUAWEI, class_="temperature")
    assert health.temperature == {temperature["descr"]: temperature["current"]}


def test_cisco_c9300_has_only_entity_mib(snmpsim: int) -> None:
    """This C9300 recording has ENTITY-MIB but none of ENTITY-SENSOR, CISCO-PROCESS,
    CISCO-MEMORY-POOL, CISCO-ENVMON: every health group is empty, the asset list is not."""
    health = poll(snmpsim, CISCO, ["Gi1/0/1"], model="C9300-48P", serial="FCW2204L050")
    assert health.vendor == "cisco"
    assert (health.cpu, health.memory, health.temperature, health.fans, health.psus) == ({}, {}, {}, {}, {})
    assert health.optics == ()
    [gi] = health.interfaces
    assert (gi.ifname, dict(gi.values)) == ("Gi1/0/1", {"in_octets": 0, "out_octets": 0, "high_speed": 1000})
    assert health.entities == (
        Entity(1, "c93xx Stack", "", 11, "C9300-48P", "FCW2204L050", "V01", ""),
        Entity(1000, "Switch 1", "", 3, "C9300-48P", "FCW2204L050", "V01", "Everest 16.6.7"),
        Entity(1001, "StackPort1/1", "", 1, "STACK-T1-50CM", "MOC2150A2HG", "V01", ""),
        Entity(1002, "StackPort1/2", "", 1, "STACK-T1-50CM", "LCC2252G0R5", "V01", ""),
        Entity(1016, "Switch 1 - Power Supply B", "", 6, "PWR-C1-715WAC", "LIT22033E97", "V02", ""),
    )
    assert health.mismatches() == {"model": False, "serial": False}
    hardware, serial = (r["current"] for r in DEVICES[CISCO]["librenms"])  # LibreNMS' chassis
    assert [(e.model, e.serial) for e in health.entities if e.cls == 3] == [(hardware, serial)]


def test_comware_health_exactly(snmpsim: int) -> None:
    """Eleven boards with a CPU, 28 temperature sensors (65535 elsewhere), no ErrorStatus column
    (so no fan or supply state), transceivers without alarm columns: the MIB's max/min range is
    the limit (hundredths of dBm), and the transceiver reporting 2147483647 has no reading."""
    # 64 cells (sysUpTime, 11 CPU, 11 memory, 28 temperatures, 4 optics, 9 interface counters):
    # the steady state is two GETs of at most 40 varbinds
    health = poll(snmpsim, COMWARE, COMWARE_PORTS, gets=2)
    assert health.vendor == "h3c"
    boards = ["Board 0", "Board 1", "Board 2", "Master Board 4", "Slave Board 5"]
    boards += [f"Board {n}" for n in range(8, 14)]
    assert dict(health.cpu) == dict(
        zip(boards, (0.06, 0.05, 0.04, 0.21, 0.04, 0.07, 0.06, 0.06, 0.06, 0.05, 0.06), strict=True)
    )
    assert dict(health.memory) == dict(
        zip(boards, (0.13, 0.13, 0.13, 0.2, 0.2, 0.13, 0.13, 0.1, 0.1, 0.1, 0.1), strict=True)
    )
    sensors = [
        "0.0.1",
        "0.1.1",
        "0.2.1",
        "0.4.1",
        "0.4.2",
        "0.5.1",
        "0.5.2",
        "0.8.1",
        "0.8.2",
        "0.9.1",
        "0.9.2",
    ]
    sensors += [f"0.{board}.{n}" for board in (10, 11, 12, 13) for n in (1, 2, 3, 4)]
    celsius = [34, 30, 29, 22, 30, 22, 29, 36, 45, 40, 47, 37, 41, 52, 56, 42, 40, 51, 58, 41, 39, 46, 56]
    celsius += [41, 38, 44, 57]
    assert dict(health.temperature) == {
        f"sensor {s}": float(c) for s, c in zip(sensors, celsius, strict=True)
    }
    assert (health.fans, health.psus) == ({}, {})
    assert health.optics == COMWARE_OPTICS
    [chassis] = [e for e in health.entities if e.cls == 3]
    assert chassis == Entity(1, "HP 10508", "", 3, "HP 10508", "DM20F3400Z", "VER.A", "")
    assert [e.index for e in health.entities] == [1, 42, 43, 44, 46, 47, 50, 51, 52, 53, 54, 55, 995, 1039]
    transceivers = {e.name: e.serial for e in health.entities if e.cls == 10}
    assert transceivers == {
        "Ten-GigabitEthernet8/0/14": "CN2AFSQ0FV",
        "Ten-GigabitEthernet9/0/10": "CN2AFSQ331",
    }
    assert [i.values["in_octets"] for i in health.interfaces] == [3631158395478, 736441215411, 689630718193]


def exposition(unit: str, health: DeviceHealth) -> str:
    state = HealthState()
    state.update([(unit, health)])
    registry = CollectorRegistry()
    registry.register(HealthCollector(state))
    return generate_latest(registry).decode()


def test_real_devices_exposition(snmpsim: int) -> None:
    """The asset list and optics as Grafana sees them; no sample for what the device lacks."""
    text = exposition("sw-hw", poll(snmpsim, HUAWEI, HUAWEI_PORTS))
    assert 'govnet_optics_rx_power_dbm{ifname="XGigabitEthernet0/0/1",unit="sw-hw"} -2.71' in text
    assert 'govnet_optics_rx_power_low_dbm{ifname="XGigabitEthernet0/0/1",unit="sw-hw"} -12.69' in text
    optics = [line for line in text.splitlines() if line.startswith("govnet_optics_")]
    assert len(optics) == 3 * 6 and not any("XGigabitEthernet0/0/3" in line for line in optics)
    assert 'serial="2102311BXVHVHC001493"' in text
    assert "govnet_device_fan_ok{" not in text and "govnet_device_psu_ok{" not in text
    text = exposition("sw-c9k", poll(snmpsim, CISCO, ["Gi1/0/1"]))
    assert re.search(r'govnet_device_entity_info\{[^}]*model="PWR-C1-715WAC"[^}]*serial="LIT22033E97"', text)
    assert "govnet_device_cpu_ratio{" not in text and "govnet_optics_rx_power_dbm{" not in text


def recorded(community: str) -> tuple[Table, dict[Oid, Value]]:
    """The fact file as discovery's walked table (column -> index -> value) and as GET answers."""
    table: Table = {}
    flat: dict[Oid, Value] = {}
    for group in DEVICES[community]["facts"]:
        column, kind = parse_oid(group["oid"]), group["type"]
        for index, raw in group["rows"].items():
            value: Value = parse_oid(raw) if kind == 6 else str(raw).encode() if kind == 4 else int(raw)
            table.setdefault(column, {})[parse_oid(str(index))] = value
            flat[column + parse_oid(str(index))] = value
    return table, flat


@pytest.mark.parametrize(
    ("community", "uplinks", "optics"),
    [
        (HUAWEI, HUAWEI_PORTS, HUAWEI_OPTICS),
        (COMWARE, COMWARE_PORTS, COMWARE_OPTICS),
        (CISCO, ["Gi1/0/1"], ()),
    ],
)
def test_the_facts_through_discover_and_read(
    community: str, uplinks: list[str], optics: tuple[Optics, ...]
) -> None:
    """Unit tier: the pure functions the probe runs, on the fact files without an agent."""
    table, flat = recorded(community)
    names = {
        index[0]: bytes(name).decode() for index, name in table[IF_NAME].items() if isinstance(name, bytes)
    }
    polled = {ifindex: name for ifindex, name in names.items() if name in uplinks}
    object_id = flat[SYS_OBJECT_ID]
    plan = discover(vendor_for(object_id if isinstance(object_id, tuple) else None), table, polled)
    assert read(plan, community, flat, {}).optics == optics


HEX40 = re.compile(r"^[0-9a-f]{40}$")


@pytest.mark.parametrize("path", healthkit.REAL, ids=lambda p: p.stem)
def test_fact_files_cite_their_source(path: Path) -> None:
    """Every fact names its column OID and the source it was read from (repository, path, commit)."""
    device = healthkit.facts(path)
    for source in device["sources"].values():
        assert source["repo"] == "librenms/librenms" and HEX40.match(source["commit"]), source
        assert source["path"].startswith(("tests/snmpsim/", "tests/data/")), source
    for group in device["facts"] + device["absent"]:
        assert re.fullmatch(r"1(\.\d+)+", group["oid"]) and group["what"], group
    rows = healthkit.fact_rows(device)
    assert len({oid for oid, _, _ in rows}) == len(rows)
    assert all(r["current"] is not None for r in device["librenms"])


def test_a_fact_index_that_yaml_reads_as_a_number_is_refused() -> None:
    """``1062.0`` unquoted is the float 1062.0: the OID would silently lose its meaning."""
    with pytest.raises(ValueError, match="quote"):
        healthkit.fact_rows({"facts": [{"oid": "1.3", "what": "x", "type": 6, "rows": {1062.5: "1.3"}}]})
