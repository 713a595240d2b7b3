"""The health of one device as the metrics read it, and how it is made from SNMP answers.

Pure functions over dicts of varbinds, so the real-device recordings, the lab and unit tests
exercise exactly the code the daemon runs. ``discover`` turns the walked tables into a ``HealthPlan``
(which cells to GET every cycle, and the names, entities and thresholds that do not change);
``read`` turns one cycle's answers into a ``DeviceHealth``. A table the device lacks leaves its
fields empty: the metric is absent, never an error.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from govnet.probes.health.defs import (
    ENT_ALIAS,
    ENT_CLASS_CHASSIS,
    ENT_PHYSICAL,
    IF_COLUMNS,
    HealthField,
    Vendor,
    VendorColumn,
)
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


N = TypeVar("N", float, int)
LAYOUT_LIMIT = 4096
"""Distinct label tuples kept for sharing; past it the cache starts over (shared ones stay alive)."""
_layouts: dict[tuple[str, ...], tuple[str, ...]] = {}


def layout(keys: tuple[str, ...]) -> tuple[str, ...]:
    """One shared, interned tuple per distinct set of labels (10,000 units of a model repeat a few)."""
    found = _layouts.get(keys)
    if found is None:
        if len(_layouts) >= LAYOUT_LIMIT:
            _layouts.clear()
        found = _layouts[keys] = tuple(sys.intern(k) for k in keys)
    return found


class Packed(Mapping[str, N], Generic[N]):
    """A unit's readings of one group, compact: labels shared between units (``layout``), the
    numbers in one array. Why: a dict per group and unit (plus a float object per value) is most of
    what 10,000 units' health costs in RSS; this is a third of it. Reads like the dict it replaces.

    >>> p = Packed.of({"MPU Board 0": 0.12, "LPU 1": 0.4}); p["LPU 1"], dict(p) == {"MPU Board 0": 0.12, "LPU 1": 0.4}
    (0.4, True)
    >>> Packed.of({"lo": 2**64 - 1, "x": 3})["lo"], Packed.of({"neg": -1})
    (18446744073709551615, {'neg': -1})
    """

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: tuple[str, ...], values: array[Any]) -> None:
        self._keys = keys
        self._values = values

    @staticmethod
    def of(values: Mapping[str, N]) -> Mapping[str, N]:
        """``values`` packed (floats as doubles, non-negative ints up to 2**64 - 1), else as they are."""
        items = list(values.values())
        if all(type(v) is float for v in items):
            return Packed(layout(tuple(values)), array("d", items))
        if all(type(v) is int and 0 <= v < 2**64 for v in items):
            return Packed(layout(tuple(values)), array("Q", items))
        return dict(values)

    def __getitem__(self, key: str) -> N:
        try:
            value: N = self._values[self._keys.index(key)]
        except ValueError:
            raise KeyError(key) from None
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Packed.of, (dict(self),))


def _entity(index: int, cls: int, *texts: str) -> Entity:
    """An unpickled ``Entity`` with its strings interned again (pickle does not keep that)."""
    name, descr, model, serial, hw_rev, sw_rev = (sys.intern(t) for t in texts)
    return Entity(index, name, descr, cls, model, serial, hw_rev, sw_rev)


@dataclass(frozen=True, slots=True)
class Entity:
    """One row of entPhysicalTable: the city's asset list of what is installed."""

    index: int
    name: str
    descr: str
    cls: int
    model: str
    serial: str
    hw_rev: str
    sw_rev: str

    def __reduce__(self) -> tuple[Any, ...]:
        """Why: plans are kept pickled and loaded every cycle; their entities end up in the
        readings, so without re-interning each unit would hold its own copies of every name."""
        texts = (self.name, self.descr, self.model, self.serial, self.hw_rev, self.sw_rev)
        return (_entity, (self.index, self.cls, *texts))


@dataclass(frozen=True, slots=True)
class Optics:
    ifname: str
    rx_dbm: float | None = None
    tx_dbm: float | None = None
    rx_low_dbm: float | None = None
    rx_high_dbm: float | None = None
    tx_low_dbm: float | None = None
    tx_high_dbm: float | None = None


@dataclass(frozen=True, slots=True)
class InterfaceHealth:
    ifname: str
    values: Mapping[str, int]
    """IF_COLUMNS names -> raw value (counters, ifHighSpeed in Mbit/s, ifLastChange in ticks)."""


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """One unit's health at one cycle; every mapping is keyed by a human name."""

    unit: str
    vendor: str
    cpu: Mapping[str, float] = field(default_factory=dict)
    memory: Mapping[str, float] = field(default_factory=dict)
    temperature: Mapping[str, float] = field(default_factory=dict)
    fans: Mapping[str, float] = field(default_factory=dict)
    psus: Mapping[str, float] = field(default_factory=dict)
    optics: tuple[Optics, ...] = ()
    interfaces: tuple[InterfaceHealth, ...] = ()
    entities: tuple[Entity, ...] = ()
    expected: Mapping[str, str] = field(default_factory=dict)
    """Inventory's ``model`` / ``serial`` for this unit, when it declares them."""

    def mismatches(self) -> dict[str, bool]:
        """Per declared field, whether no chassis reports it (True: the installed box differs)."""
        chassis = [e for e in self.entities if e.cls == ENT_CLASS_CHASSIS] or list(self.entities[:1])
        if not chassis:
            return {}
        found = {
            "model": {_norm(v) for e in chassis for v in (e.model, e.descr, e.name) if v},
            "serial": {_norm(e.serial) for e in chassis if e.serial},
        }
        return {name: _norm(value) not in found[name] for name, value in self.expected.items() if value}


def _norm(text: str) -> str:
    return text.strip().casefold()


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
