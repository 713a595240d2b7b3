"""Plausible device-health tables for a lab unit, per platform, and the faults that change them.

The lab's snmpd is the stock net-snmp agent; it serves these tables through ``pass_persist``
(``healthagent``), laid out as the unit's own platform lays them out, so the health probe reads
each lab unit with the same definitions as a real device of that vendor:

- ``huawei_vrp``: HUAWEI-ENTITY-EXTENT-MIB state, optical, fan and power tables (optics keyed by
  the port's entPhysicalIndex, thresholds in 0.01 dBm);
- ``h3c_comware``: HH3C-ENTITY-EXT-MIB (fans and supplies as entities with an error status),
  HH3C-TRANSCEIVER-INFO-MIB keyed by ifIndex (power in 0.01 dBm, thresholds in 0.1 µW);
- ``cisco_ios``: CISCO-PROCESS-MIB, CISCO-MEMORY-POOL-MIB, CISCO-ENVMON-MIB, and the optics as
  ENTITY-SENSOR-MIB sensors inside the uplink's transceiver with CISCO-ENTITY-SENSOR-MIB thresholds.

Every vendor column OID comes from the probe's own definitions (`govnet.probes.health.defs`): one
source of truth, so the lab cannot drift from what the probe reads. ENTITY-MIB holds the chassis
(the inventory's model and a made-up serial), with the uplink port aliased to its ifIndex, and
sysObjectID (snmpd.conf) carries the vendor's enterprise, so the probe also finds the vendor
without the inventory's platform. ifInErrors of the uplink is served too: the kernel's count plus
what an ``errors`` fault adds.

Faults (``govnet lab fault UNIT KIND``), on every platform: ``cpu-high`` (CPU 97%),
``optics-low`` (receive power -28 dBm, under the transceiver's -20 dBm low alarm), ``errors``
(uplink input errors rise 50/s). The active ones live in the agent's folder (``health.json``:
kind -> since, wall clock), which the agent reads on every request: nothing restarts, so
sysUpTime keeps counting.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from govnet.errors import LabError
from govnet.lab.healthagent import KINDS, STATE_FILE, TABLES_FILE, UPLINK, Cell, Tables, faults_of
from govnet.probes.health import defs
from govnet.probes.health.defs import ENT_ALIAS, ENT_PHYSICAL, IF_COLUMNS, HealthField, Vendor

__all__ = ["KINDS", "PROFILES", "Profile", "faults_of", "profile", "serial_of", "set_fault", "write_tables"]

HUAWEI_PLATFORM = "huawei_vrp"
ENTITY_MIB = "1.3.6.1.2.1.47"
ENTITY_SENSOR_MIB = "1.3.6.1.2.1.99"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
CPU_HIGH = 97
"""What ``cpu-high`` makes every CPU of the unit report (percent)."""
FAULTED_RX_DBM = -28.0
"""What ``optics-low`` makes the uplink receive (every platform's low alarm is -20 dBm)."""


def dotted(oid: tuple[int, ...]) -> str:
    return ".".join(map(str, oid))


def column(vendor: Vendor, field: HealthField, under: str = "") -> str:
    """The column of ``vendor`` that reads ``field`` (under ``under``, e.g. CISCO-ENVMON's fans);
    where several do (H3C's limits: the min/max power columns, then the alarm thresholds), the
    last, which the probe lets win where a device serves both."""
    found = [dotted(c.oid) for c in vendor.of(field) if dotted(c.oid).startswith(under)]
    if not found:
        raise LabError(f"{vendor.name}: no column for {field} under {under!r} (a lab bug)")
    return found[-1]


def entry(vendor: Vendor, field: HealthField) -> str:
    """The table entry (dotted, with a trailing dot) that ``vendor``'s ``field`` column is in."""
    return dotted(vendor.of(field)[0].oid[:-1]) + "."


def serial_of(unit: str, platform: str = HUAWEI_PLATFORM) -> str:
    """A stable made-up chassis serial per unit, in the vendor's format (the inventory declares it).

    >>> serial_of("sz-caizheng") == serial_of("sz-caizheng"), len(serial_of("x")), serial_of("x", "cisco_ios")[:3]
    (True, 20, 'FOC')
    """
    digest = hashlib.sha256(unit.encode()).hexdigest().upper()
    return {"cisco_ios": "FOC" + digest[:8], "h3c_comware": "219801" + digest[:14]}.get(
        platform, "2102" + digest[:16]
    )


class Builder:
    """Collects one unit's cells and the overrides of each fault kind."""

    def __init__(self) -> None:
        self.cells: dict[str, Cell] = {}
        self.faults: dict[str, dict[str, Cell]] = {}

    def put(self, oid: str, kind: str, value: object, **faulted: object) -> None:
        """``oid`` served as ``value``; ``faulted``: fault kind (``cpu_high``) -> its value."""
        self.cells[oid] = (kind, str(value))
        for name, other in faulted.items():
            self.faults.setdefault(name.replace("_", "-"), {})[oid] = (kind, str(other))

    def entity(
        self,
        index: int,
        cls: int,
        parent: int,
        name: str,
        *,
        model: str = "",
        serial: str = "",
        revisions: tuple[str, str] = ("", ""),
    ) -> None:
        """One entPhysicalTable row (descr = name, as the lab's devices name their parts)."""
        for part, kind, value in (
            ("descr", "string", name),
            ("contained_in", "integer", parent),
            ("class", "integer", cls),
            ("name", "string", name),
            ("hw_rev", "string", revisions[0]),
            ("sw_rev", "string", revisions[1]),
            ("serial", "string", serial),
            ("model", "string", model),
        ):
            self.put(f"{dotted(ENT_PHYSICAL[part])}.{index}", kind, value)

    def port(self, index: int, parent: int) -> None:
        """The uplink port as an entity, aliased to the uplink's ifIndex (entAliasMappingTable)."""
        self.entity(index, 10, parent, "uplink")
        self.put(f"{dotted(ENT_ALIAS)}.{index}.0", "objectid", f".{IF_INDEX}.{UPLINK}")

    def tables(self) -> Tables:
        return Tables(self.cells, self.faults, dotted(IF_COLUMNS["in_errors"]))


@dataclass(frozen=True)
class Profile:
    """What a lab unit of one platform reports: the vendor, its sysObjectID and chassis model."""

    platform: str
    vendor: Vendor
    sys_object_id: str
    """The product OIDs of the project's recordings of this vendor (tests/probes/health/healthkit)."""
    model: str
    """The site inventory's model for the platform (inventory/site.yml groups)."""
    build: Callable[[Builder, str, str], None]
    extra_subtrees: tuple[str, ...] = ()

    @property
    def subtrees(self) -> tuple[str, ...]:
        """What the agent registers with snmpd (one ``pass_persist`` helper each)."""
        return (
            dotted(self.vendor.enterprise),
            ENTITY_MIB,
            *self.extra_subtrees,
            dotted(IF_COLUMNS["in_errors"]),
        )

    def tables(self, unit: str) -> Tables:
        builder = Builder()
        self.build(builder, self.model, serial_of(unit, self.platform))
        return builder.tables()


def _huawei(b: Builder, model: str, serial: str) -> None:
    v = defs.HUAWEI
    chassis, board, port = 16777216, 67108873, 67469518
    b.entity(chassis, 3, 0, model, model=model, serial=serial, revisions=("VER.A", "V200R019C10SPC500"))
    b.entity(board, 9, chassis, "MPU Board 0", model="ES5D2T28S000")
    b.port(port, board)
    b.put(f"{column(v, HealthField.CPU)}.{board}", "integer", 12, cpu_high=CPU_HIGH)
    b.put(f"{column(v, HealthField.CPU_THRESHOLD)}.{board}", "integer", 95)
    b.put(f"{column(v, HealthField.MEMORY)}.{board}", "integer", 40)
    b.put(f"{column(v, HealthField.TEMPERATURE)}.{board}", "integer", 41)
    b.put(f"{column(v, HealthField.RX_POWER)}.{port}", "integer", -520, optics_low=int(FAULTED_RX_DBM * 100))
    b.put(f"{column(v, HealthField.TX_POWER)}.{port}", "integer", -210)
    for field, limit in ((HealthField.RX_LOW, -2000), (HealthField.RX_HIGH, 50)):
        b.put(f"{column(v, field)}.{port}", "integer", limit)
    for field, limit in ((HealthField.TX_LOW, -800), (HealthField.TX_HIGH, 100)):
        b.put(f"{column(v, field)}.{port}", "integer", limit)
    b.put(f"{column(v, HealthField.FAN)}.0.0", "integer", 1)  # hwEntityFanState of slot 0 fan 0: normal
    b.put(f"{column(v, HealthField.PSU)}.0.1", "integer", 1)  # hwEntityPwrState of slot 0 supply 1: supply


def _h3c(b: Builder, model: str, serial: str) -> None:
    v = defs.H3C
    chassis, board, fan, psu, port = 1, 2, 3, 4, 5
    b.entity(chassis, 3, 0, model, model=model, serial=serial, revisions=("VER.B", "7.1.070 Release 6328"))
    b.entity(board, 9, chassis, "Board 1", model="LS5130S28S")
    b.entity(fan, 7, chassis, "Fan 1")
    b.entity(psu, 6, chassis, "Power Supply 1")
    b.port(port, board)
    # hh3cEntityExtStateTable: entities without a processor or sensor report 0 (the probe skips them)
    b.put(f"{column(v, HealthField.CPU)}.{chassis}", "integer", 0)
    b.put(f"{column(v, HealthField.CPU)}.{board}", "integer", 9, cpu_high=CPU_HIGH)
    for field, chassis_value, board_value in ((HealthField.MEMORY, 0, 57), (HealthField.TEMPERATURE, 0, 38)):
        b.put(f"{column(v, field)}.{chassis}", "integer", chassis_value)
        b.put(f"{column(v, field)}.{board}", "integer", board_value)
    for index in (chassis, board, fan, psu):  # hh3cEntityExtErrorStatus normal(2)
        b.put(f"{column(v, HealthField.ENTITY_STATE)}.{index}", "integer", 2)
    # HH3C-TRANSCEIVER-INFO-MIB by ifIndex: power in 0.01 dBm, alarm thresholds in 0.1 µW
    b.put(
        f"{column(v, HealthField.RX_POWER)}.{UPLINK}", "integer", -480, optics_low=int(FAULTED_RX_DBM * 100)
    )
    b.put(f"{column(v, HealthField.TX_POWER)}.{UPLINK}", "integer", -230)
    limits = {
        HealthField.RX_LOW: 100,
        HealthField.RX_HIGH: 10000,
        HealthField.TX_LOW: 1585,
        HealthField.TX_HIGH: 12589,
    }
    for field, limit in limits.items():  # -20, 0, -8, +1 dBm
        b.put(f"{column(v, field)}.{UPLINK}", "integer", limit)


def _cisco(b: Builder, model: str, serial: str) -> None:
    v = defs.CISCO
    chassis, port, sfp, rx, tx = 1001, 1002, 1003, 1004, 1005
    b.entity(chassis, 3, 0, "Switch 1", model=model, serial=serial, revisions=("V05", "15.2(7)E4"))
    b.port(port, chassis)
    b.entity(sfp, 9, port, "GLC-LH-SMD", model="GLC-LH-SMD", serial="AGM" + serial[3:], revisions=("V01", ""))
    b.entity(rx, 8, sfp, "uplink Receive Power Sensor")
    b.entity(tx, 8, sfp, "uplink Transmit Power Sensor")
    b.put(f"{column(v, HealthField.CPU)}.1", "gauge", 7, cpu_high=CPU_HIGH)  # cpmCPUTotal5minRev
    pool = entry(v, HealthField.MEMORY_USED)
    for index, (name, used, free) in {
        1: ("Processor", 90000000, 210000000),
        2: ("I/O", 8000000, 24000000),
    }.items():
        b.put(f"{column(v, HealthField.NAME, pool)}.{index}", "string", name)
        b.put(f"{column(v, HealthField.MEMORY_USED)}.{index}", "gauge", used)
        b.put(f"{column(v, HealthField.MEMORY_FREE)}.{index}", "gauge", free)
    for field, kind, index, name, value in (  # CISCO-ENVMON-MIB: descriptions and readings
        (HealthField.TEMPERATURE, "gauge", 1006, "SW#1, Sensor#1, GREEN", 36),
        (HealthField.FAN, "integer", 1004, "Switch#1, Fan#1", 1),
        (HealthField.PSU, "integer", 1003, "Sw1, PSU1", 1),
    ):
        b.put(f"{column(v, HealthField.NAME, entry(v, field))}.{index}", "string", name)
        b.put(f"{column(v, field)}.{index}", kind, value)
    _cisco_sensors(b, v, {rx: (-48, int(FAULTED_RX_DBM * 10), -200, 5), tx: (-23, None, -80, 10)})


def _cisco_sensors(b: Builder, v: Vendor, sensors: dict[int, tuple[int, int | None, int, int]]) -> None:
    """ENTITY-SENSOR-MIB dBm sensors in tenths (scale units, precision 1) and their
    entSensorThresholdTable rows: a critical low and high alarm plus a major low warning."""
    for index, (value, low_value, low, high) in sensors.items():
        faulted = {"optics_low": low_value} if low_value is not None else {}
        b.put(f"{column(v, HealthField.SENSOR_TYPE)}.{index}", "integer", defs.SENSOR_DBM)
        b.put(f"{column(v, HealthField.SENSOR_SCALE)}.{index}", "integer", 9)
        b.put(f"{column(v, HealthField.SENSOR_PRECISION)}.{index}", "integer", 1)
        b.put(f"{column(v, HealthField.SENSOR_VALUE)}.{index}", "integer", value, **faulted)
        b.put(f"{column(v, HealthField.THRESHOLD_SCALE)}.{index}", "integer", 9)
        b.put(f"{column(v, HealthField.THRESHOLD_PRECISION)}.{index}", "integer", 1)
        # (severity critical 30 / major 20, relation greaterOrEqual 4 / lessOrEqual 2, value)
        for n, row in enumerate(((30, 4, high), (30, 2, low), (20, 2, low + 10)), start=1):
            for field, number in zip(
                (HealthField.THRESHOLD_SEVERITY, HealthField.THRESHOLD_RELATION, HealthField.THRESHOLD_VALUE),
                row,
                strict=True,
            ):
                b.put(f"{column(v, field)}.{index}.{n}", "integer", number)


PROFILES = {
    p.platform: p
    for p in (
        Profile(HUAWEI_PLATFORM, defs.HUAWEI, "1.3.6.1.4.1.2011.2.23.291", "S5720-28X-SI-AC", _huawei),
        Profile("h3c_comware", defs.H3C, "1.3.6.1.4.1.25506.11.1.172", "S5130-28S-SI", _h3c),
        Profile(
            "cisco_ios", defs.CISCO, "1.3.6.1.4.1.9.1.2494", "WS-C2960X-24TS-L", _cisco, (ENTITY_SENSOR_MIB,)
        ),
    )
}


def profile(platform: str) -> Profile:
    """The lab's profile of ``platform`` (every platform the inventory knows has one; a test checks)."""
    found = PROFILES.get(platform)
    if found is None:
        raise LabError(f"the lab simulates no device health for platform {platform!r}")
    return found


def write_tables(folder: Path, platform: str, unit: str) -> None:
    """The tables the unit's agent serves (``healthagent.TABLES_FILE``), written atomically."""
    _write(folder, TABLES_FILE, profile(platform).tables(unit).as_json())


def set_fault(folder: Path, kind: str, on: bool) -> None:
    """Record (or clear) ``kind`` for the agent in ``folder``; written atomically."""
    faults = faults_of(folder)
    if on:
        faults[kind] = time.time()
    else:
        faults.pop(kind, None)
    _write(folder, STATE_FILE, faults)


def _write(folder: Path, name: str, data: object) -> None:
    temporary = folder / (name + ".tmp")
    temporary.write_text(json.dumps(data, sort_keys=True))
    os.replace(temporary, folder / name)
