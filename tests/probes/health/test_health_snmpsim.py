"""The health probe against snmpsim on 127.0.0.1: exact values per recording.

The synthetic vendor recordings (``healthkit.RECORDINGS``) carry what the real-device facts
(``test_health_real.py``) do not show: failed fans and supplies, H3C alarm thresholds, Cisco's
sensor and threshold tables, CPU/memory pools, error counters, an inventory mismatch. The shared
real-device recordings in ``../shared/data/snmprec`` carry IF-MIB and the system group only, so
there the probe must report the interfaces' counters exactly as ``EXPECTED.json`` lists them and
every health table as absent (no CPU, no optics, no entities), without an error.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from govnet.probes.base import Target
from govnet.probes.health import HealthProbe, HealthSettings
from govnet.probes.health.collector import HealthCollector, HealthState
from govnet.probes.health.readings import DeviceHealth, Optics
from tests.helpers import need
from tests.probes.health import healthkit
from tests.probes.test_snmp import SNMPREC, V3, Snmpd


def poll(port: int, community: str, uplinks: list[str], gets: int = 1, **params: Any) -> DeviceHealth:
    target = Target(
        community,
        "intranet",
        "127.0.0.1",
        port,
        params={"community": community, "uplinks": uplinks, **params},
    )

    async def twice() -> DeviceHealth:
        """Discovery, then the steady state: ``gets`` GETs of up to 40 cells (one for most
        devices), no rediscovery (absent cells are dropped)."""
        probe = HealthProbe(HealthSettings(timeout=2.0, max_repetitions=10))
        try:
            [first] = await probe.poll([target], 30.0)
            [item] = await probe.poll([target], 30.0)
        finally:
            await probe.close()
        assert first.result.success and item.result.success, (first.result.detail, item.result.detail)
        assert (item.result.sent, item.result.detail) == (gets, "")
        assert item.health is not None and item.health == first.health
        return item.health

    return asyncio.run(twice())


def test_huawei_vrp_health_exactly(snmpsim: int) -> None:
    health = poll(snmpsim, "health_huawei", ["XGigabitEthernet0/0/1", "XGigabitEthernet0/0/2"])
    assert health.vendor == "huawei"
    assert health.cpu == {"MPU Board 0": 0.08}  # the board with threshold 0 has no CPU
    assert health.memory == {"MPU Board 0": 0.47}
    assert health.temperature == {"MPU Board 0": 38.0}
    assert health.fans == {"0.0": 1.0, "0.1": 0.0}
    assert health.psus == {"0.1": 1.0, "0.2": 0.0, "0.3": 1.0}  # a sleeping supply is fine; unknown: absent
    # XGE0/0/2 has no module (2147483647): no reading; GE0/0/48 is not polled
    assert health.optics == (Optics("XGigabitEthernet0/0/1", -7.34, -2.21, -20.0, 0.5, -8.0, 1.0),)
    [uplink, other] = health.interfaces
    assert uplink.ifname == "XGigabitEthernet0/0/1"
    assert uplink.values == {
        "last_change": 12345,
        "in_discards": 3,
        "in_errors": 17,
        "out_discards": 1,
        "out_errors": 2,
        "in_octets": 123456789012,
        "out_octets": 98765432109,
        "high_speed": 10000,
    }
    assert other.ifname == "XGigabitEthernet0/0/2"
    chassis = [e for e in health.entities if e.cls == 3]
    assert [(e.model, e.serial) for e in chassis] == [("S5720-56C-PWR-EI-AC", "2102350DLS10H3000123")]
    assert {e.serial for e in health.entities if e.serial} == {"2102350DLS10H3000123", "021TLQ10H3000456"}


def test_h3c_comware_health_exactly(snmpsim: int) -> None:
    health = poll(snmpsim, "health_h3c", ["Ten-GigabitEthernet1/0/1", "FortyGigE1/0/49"])
    assert health.vendor == "h3c"
    assert health.cpu == {"Board 1": 0.12}  # the chassis row reports 0: not a processor
    assert health.memory == {"Board 1": 0.63}
    assert health.temperature == {"Board 1": 41.0}
    assert health.fans == {"Fan 1": 1.0, "Fan 2": 0.0}  # hh3cEntityExtErrorStatus of class fan(7)
    assert health.psus == {"Power Supply 1": 1.0, "Power Supply 2": 0.0}  # class 6; the absent one: none
    # thresholds in tenths of µW: 15849 -> 2.0 dBm, 1259 -> -9.0, 12589 -> 1.0, 316 -> -15.0
    assert health.optics == (Optics("Ten-GigabitEthernet1/0/1", -12.5, -2.15, -15.0, 1.0, -9.0, 2.0),)
    assert [i.values["in_errors"] for i in health.interfaces] == [0, 4]


def test_cisco_ios_health_exactly(snmpsim: int) -> None:
    health = poll(snmpsim, "health_cisco", ["Te1/1/1"], model="C9300-48P", serial="FOC9999X9ZZ")
    assert health.vendor == "cisco"
    assert health.cpu == {"1000": 0.07}
    assert health.memory == {"Processor": 0.3, "lsmpi_io": 0.75}
    # the module sensor of the unpolled Te1/1/2 is left out
    assert health.temperature == {
        "Switch 1 - Inlet Temp Sensor": 31.0,
        "Te1/1/1 Module Temperature Sensor": 33.0,
    }
    assert health.fans == {"Switch 1 - FAN 1": 1.0}
    assert health.psus == {"Switch 1 - Power Supply A": 0.0}  # critical; B is notPresent: absent
    # thresholds from entSensorThresholdTable: rx high 0.5 (critical), rx low -14.4 (major), tx high
    # 0.5 and tx low -8.2 (critical over major); the minor ones are warnings, not alarms
    assert health.optics == (Optics("Te1/1/1", -5.2, -2.3, -14.4, 0.5, -8.2, 0.5),)
    assert health.mismatches() == {"model": False, "serial": True}


EXPECTED: dict[str, Any] = (
    json.loads((SNMPREC / "EXPECTED.json").read_text()) if (SNMPREC / "EXPECTED.json").is_file() else {}
)


@pytest.mark.parametrize("recording", sorted(EXPECTED))
def test_real_devices_without_health_tables_report_interfaces_only(snmpsim: int, recording: str) -> None:
    """LibreNMS' recordings have no ENTITY-MIB and no vendor tables: those metrics are absent."""
    interfaces = EXPECTED[recording]["interfaces"]
    candidates = [(i, r) for i, r in interfaces.items() if "ifHCInOctets" in r and r.get("ifName")]
    index, row = max(candidates, key=lambda item: (item[1]["oper"] == 1, item[1]["ifHCInOctets"]))
    health = poll(snmpsim, EXPECTED[recording]["community"], [row["ifName"]])
    assert health.vendor in ("huawei", "h3c", "cisco")
    assert (health.cpu, health.memory, health.temperature, health.fans, health.psus) == ({}, {}, {}, {}, {})
    assert (health.optics, health.entities) == ((), ())
    [iface] = health.interfaces
    assert iface.ifname == row["ifName"], index
    assert iface.values["in_octets"] == row["ifHCInOctets"]
    assert iface.values["out_octets"] == row["ifHCOutOctets"]
    assert iface.values["high_speed"] == row["ifHighSpeed"]
    assert "in_errors" not in iface.values  # the cut recordings kept no error columns


def test_exposition_of_a_polled_device(snmpsim: int) -> None:
    state = HealthState()
    state.update([("sw-core", poll(snmpsim, "health_huawei", ["XGigabitEthernet0/0/1"]))])
    registry = CollectorRegistry()
    registry.register(HealthCollector(state))
    text = generate_latest(registry).decode()
    assert 'govnet_optics_rx_power_dbm{ifname="XGigabitEthernet0/0/1",unit="sw-core"} -7.34' in text
    assert (
        'govnet_interface_errors_total{direction="in",ifname="XGigabitEthernet0/0/1",unit="sw-core"} 17.0'
        in text
    )
    assert 'govnet_device_cpu_ratio{entity="MPU Board 0",unit="sw-core"} 0.08' in text
    assert 'serial="2102350DLS10H3000123"' in text


def test_discovery_in_a_forked_child_gives_the_same_plans(snmpsim: int) -> None:
    """Many units due at once are walked in a forked child (here from 2): the plans it hands back
    are the ones this process would make, so the same cycle then reads each unit with one GET."""
    recordings = {"health_huawei": ["XGigabitEthernet0/0/1"], "health_h3c": [], "health_cisco": []}
    targets = [
        Target(name, "intranet", "127.0.0.1", snmpsim, params={"community": name, "uplinks": uplinks})
        for name, uplinks in recordings.items()
    ]

    async def cycle(fork_at: int | None) -> list[tuple[DeviceHealth | None, int]]:
        probe = HealthProbe(HealthSettings(timeout=2.0, max_repetitions=10), fork_at=fork_at)
        try:
            items = await probe.poll(targets, 30.0)
        finally:
            await probe.close()
        assert all(i.result.success for i in items), [i.result.detail for i in items]
        assert len(probe.plans) == len(targets)
        return [(i.health, i.result.sent) for i in items]

    forked, local = asyncio.run(cycle(2)), asyncio.run(cycle(None))
    assert [h for h, _ in forked] == [h for h, _ in local]
    assert [sent for _, sent in forked] == [1] * len(targets)  # the plan came from the child
    assert all(sent > 1 for _, sent in local)  # walked here


def test_the_recordings_are_sorted_and_unique(tmp_path: Path) -> None:
    healthkit.write(tmp_path)
    for path in tmp_path.glob("*.snmprec"):
        oids = [tuple(map(int, line.split("|")[0].split("."))) for line in path.read_text().splitlines()]
        assert oids == sorted(set(oids)), path.name


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[Snmpd]:
    need(shutil.which("snmpd") is not None, "net-snmp snmpd not installed (apt-get install snmpd)")
    agent = Snmpd(tmp_path)
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


def test_snmpv3_walks_and_gets_through_the_engine(snmpd: Snmpd) -> None:
    """net-snmp over v3 authPriv: ENTITY-MIB (net-snmp has none of the vendor tables) and lo."""
    target = Target("v3", "intranet", "127.0.0.1", snmpd.port, params={**V3, "uplinks": ["lo"]})

    async def once() -> tuple[bool, str, DeviceHealth | None]:
        probe = HealthProbe(HealthSettings(timeout=2.0))
        try:
            [item] = await probe.poll([target], 30.0)
        finally:
            await probe.close()
        return item.result.success, item.result.detail, item.health

    success, detail, health = asyncio.run(once())
    assert success, detail
    assert health is not None and health.vendor == ""
    [lo] = health.interfaces
    assert lo.ifname == "lo" and lo.values["in_errors"] == 0 and lo.values["in_octets"] > 0
    assert "authpass" not in detail and (health.cpu, health.optics) == ({}, ())
