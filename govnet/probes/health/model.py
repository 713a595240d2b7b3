"""What discovery keeps of a device (``HealthPlan``: its cells, entities and thresholds), and the
pure helpers that make it from walked tables.

Pure functions over dicts of varbinds, so the real-device recordings, the lab and unit tests
exercise exactly the code the daemon runs. ``plan.discover`` turns the walked tables into a
``HealthPlan`` (which cells to GET every cycle, and the names, entities and thresholds that do not
change); ``plan.read`` turns one cycle's answers into a ``readings.DeviceHealth``. A table the
device lacks leaves its fields empty: the metric is absent, never an error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from govnet.probes.health.defs import (
    ENT_ALIAS,
    ENT_PHYSICAL,
    IF_COLUMNS,
    HealthField,
    Vendor,
    VendorColumn,
)
from govnet.probes.health.readings import Entity
from govnet.probes.health.walk import Table
from govnet.probes.snmp.ber import Oid, RequestTemplate, Value
from govnet.probes.snmp.plan import decode_text

POLLED = frozenset(
    (
        HealthField.CPU,
        HealthField.MEMORY,
        HealthField.MEMORY_USED,
        HealthField.MEMORY_FREE,
        HealthField.TEMPERATURE,
        HealthField.FAN,
        HealthField.PSU,
        HealthField.RX_POWER,
        HealthField.TX_POWER,
        HealthField.SENSOR_VALUE,
    )
)
THRESHOLDS = (HealthField.RX_LOW, HealthField.RX_HIGH, HealthField.TX_LOW, HealthField.TX_HIGH)
MAX_CONTAINMENT = 6
"""How far up entPhysicalContainedIn a sensor is followed to find its port."""


@dataclass(frozen=True, slots=True)
class Cell:
    column: VendorColumn
    index: Oid
    label: str
    """The human name of the row: entity name, pool name, interface name."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Unpickled with the label interned: it becomes a key of the unit's readings."""
        return (_cell, (self.column, self.index, self.label))

    @property
    def oid(self) -> Oid:
        return self.column.oid + self.index


@dataclass(slots=True)
class HealthPlan:
    """What discovery learned about a unit; rebuilt on the slow schedule, a reboot or a trap."""

    vendor: Vendor | None
    interfaces: dict[int, str]
    """ifIndex -> ifName of the polled interfaces."""
    cells: list[Cell]
    entities: tuple[Entity, ...]
    thresholds: dict[str, dict[HealthField, float]]
    """ifname -> transceiver thresholds (dBm)."""
    sensors: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    """ENTITY-SENSOR-MIB: entity index -> (type, scale, precision)."""
    templates: dict[tuple[Oid, ...], RequestTemplate] = field(default_factory=dict)
    """Encoded GETs of this plan (v2c), reused every cycle."""
    unsupported: set[Oid] = field(default_factory=set)
    """Cells the agent answered noSuchObject/noSuchInstance to right after discovery (a device
    without ifLastChange, say): never asked again, so they do not count as vanished."""

    def oids(self) -> list[Oid]:
        out = [cell.oid for cell in self.cells]
        for index in self.interfaces:
            out.extend((*column, index) for column in IF_COLUMNS.values())
        return [oid for oid in out if oid not in self.unsupported]


def _cell(column: VendorColumn, index: Oid, label: str) -> Cell:
    return Cell(column, index, sys.intern(label))


def _int(value: Value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Value) -> str:
    """Interned: 10,000 units of one model repeat the same few names, models and revisions."""
    return sys.intern(decode_text(value)) if isinstance(value, bytes) else ""


def entities(table: Table) -> dict[int, Entity]:
    """entPhysicalTable rows by index (only single-arc indexes: that is what the MIB defines)."""
    rows: dict[int, Entity] = {}
    names = table.get(ENT_PHYSICAL["name"], {})
    descrs = table.get(ENT_PHYSICAL["descr"], {})
    for index in sorted(set(names) | set(descrs)):
        if len(index) != 1:
            continue

        def text(column: str, index: Oid = index) -> str:
            return _text(table.get(ENT_PHYSICAL[column], {}).get(index))

        cls = _int(table.get(ENT_PHYSICAL["class"], {}).get(index)) or 0
        rows[index[0]] = Entity(
            index[0],
            text("name"),
            text("descr"),
            cls,
            text("model"),
            text("serial"),
            text("hw_rev"),
            text("sw_rev"),
        )
    return rows


def port_ifindex(table: Table) -> dict[int, int]:
    """entPhysicalIndex -> ifIndex, from entAliasMappingIdentifier (``ifIndex.N`` OIDs), walking
    up entPhysicalContainedIn for entities (sensors, transceivers) that sit inside a port."""
    direct: dict[int, int] = {}
    for index, value in table.get(ENT_ALIAS, {}).items():
        if isinstance(value, tuple) and len(value) > 1 and value[:-1] == (1, 3, 6, 1, 2, 1, 2, 2, 1, 1):
            direct.setdefault(index[0], value[-1])
    parents = {
        index[0]: parent
        for index, value in table.get(ENT_PHYSICAL["contained_in"], {}).items()
        if (parent := _int(value)) is not None and len(index) == 1
    }
    out: dict[int, int] = {}
    for entity in set(parents) | set(direct):
        current: int | None = entity
        for _ in range(MAX_CONTAINMENT):
            if current is None or current in direct:
                break
            current = parents.get(current)
        if current is not None and current in direct:
            out[entity] = direct[current]
    return out
