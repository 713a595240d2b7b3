"""A unit's readings as the daemon keeps them: compact, and read like the dicts they replaced.

``DeviceHealth`` is what ``plan.read`` makes of one cycle's answers and what the kind's part,
the collector and the status page hold. At 10,000 units its size is most of what health costs
in the daemon (twice, while a cycle replaces the last set), hence a shared ``Layout`` (every name
once) and the numbers in arrays; ``Optics``, ``InterfaceHealth`` and the groups are views made
when read. ``Entity`` (a row of ENTITY-MIB's physical table) comes from the unit's plan.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from govnet.probes.health.defs import ENT_CLASS_CHASSIS
from govnet.probes.snmp.plan import Shared

N = TypeVar("N", float, int)
EMPTY_READINGS: Mapping[str, float] = MappingProxyType({})
EMPTY_EXPECTED: Mapping[str, str] = MappingProxyType({})
"""The shared empty mappings: most devices have no PSU table, most inventories no serial."""
shared = Shared(limit=4096)
"""One object per distinct value (label tuples, layouts, identical plans' blobs): 10,000 units of a
few models repeat a few. The snmp probe's kind of table (``snmp.plan.Shared``), a table of its own:
past 4,096 distinct values it starts over (what is shared stays alive)."""


def layout(keys: tuple[str, ...]) -> tuple[str, ...]:
    """One shared tuple of interned labels per distinct set of labels."""
    return shared(tuple(sys.intern(k) for k in keys))


class Packed(Mapping[str, N], Generic[N]):
    """Labels (shared, ``layout``) against numbers (an array or a slice of one), read as a dict.
    Why: how a ``DeviceHealth`` hands out its groups without keeping a dict per group and unit.

    >>> p = Packed(layout(("MPU Board 0", "LPU 1")), numbers([0.12, 0.4])); p["LPU 1"], dict(p)
    (0.4, {'MPU Board 0': 0.12, 'LPU 1': 0.4})
    """

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: tuple[str, ...], values: Sequence[N]) -> None:
        self._keys = keys
        self._values: Sequence[N] = values

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
        return (Packed, (self._keys, self._values))


def numbers(values: Sequence[Any]) -> Sequence[Any]:
    """``values`` as one array when every one fits (all floats: doubles; all ints in 0..2**64-1:
    unsigned 64-bit, counters stay exact), else as a tuple (exactly what was given); empty: ``()``.

    >>> numbers([0.5, -2.0]), numbers([2**64 - 1]), numbers([-1, 2]), numbers([])
    (array('d', [0.5, -2.0]), array('Q', [18446744073709551615]), (-1, 2), ())
    """
    if not values:
        return ()
    if all(type(v) is float for v in values):
        return array("d", values)
    if all(type(v) is int and 0 <= v < 2**64 for v in values):
        return array("Q", values)
    return tuple(values)


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


GROUPS = ("cpu", "memory", "temperature", "fans", "psus")
"""A unit's reading groups (each: a human name -> a number), in the order ``Layout`` keeps them."""
OPTICS = ("rx_dbm", "tx_dbm", "rx_low_dbm", "rx_high_dbm", "tx_low_dbm", "tx_high_dbm")
"""``Optics``' readings, in order; a layout's optic says which of them it has (a bit each)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """What a unit's readings are, without the numbers: every name once, shared (``shared``) by
    every unit whose plan reads the same things (10,000 units of a few models: a few layouts)."""

    vendor: str
    groups: tuple[tuple[str, ...], ...]
    """The labels of each of ``GROUPS``."""
    optics: tuple[tuple[str, int], ...]
    """(ifname, bit mask of the ``OPTICS`` readings present) per transceiver."""
    interfaces: tuple[tuple[str, tuple[str, ...]], ...]
    """(ifname, the IF-MIB columns answered) per polled interface."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_layout, (self.vendor, self.groups, self.optics, self.interfaces))


def _layout(vendor: str, groups: Any, optics: Any, interfaces: Any) -> Layout:
    """A ``Layout``, the one already shared when there is one (also after unpickling)."""
    return shared(Layout(sys.intern(vendor), groups, optics, interfaces))


DECLARED = ("model", "serial")
"""What the inventory may declare of a device's chassis (``DeviceHealth.expected``)."""
NOTHING_DECLARED = ("", "")


def declared_pair(expected: Mapping[str, str]) -> tuple[str, str]:
    """The inventory's (model, serial), "" where not declared; the shared pair when neither is.

    >>> declared_pair({"serial": "SN1"}), declared_pair({}) is NOTHING_DECLARED
    (('', 'SN1'), True)
    """
    if not expected:
        return NOTHING_DECLARED
    return (expected.get("model") or "", expected.get("serial") or "")


class DeviceHealth:
    """One unit's health at one cycle: a shared ``Layout``, its numbers in two arrays (readings
    as doubles, interface counters as exact unsigned 64-bit ints), the entities of its plan.

    Why not a dict per group, an ``Optics`` and ``InterfaceHealth`` per port: at 10,000 units
    that object graph was ~1.5 KB per unit, twice while a cycle replaces the last set; this is
    ~0.3 KB. It is built and read as before (the groups, optics and interfaces are views made
    when asked: by the collector once per render, by the status page), so the exposition is
    byte-identical (``test_packed_readings_expose_exactly_what_dicts_do``).
    """

    __slots__ = ("_declared", "counters", "entities", "layout", "readings", "unit")

    def __init__(
        self,
        unit: str,
        vendor: str,
        cpu: Mapping[str, float] = EMPTY_READINGS,
        memory: Mapping[str, float] = EMPTY_READINGS,
        temperature: Mapping[str, float] = EMPTY_READINGS,
        fans: Mapping[str, float] = EMPTY_READINGS,
        psus: Mapping[str, float] = EMPTY_READINGS,
        optics: tuple[Optics, ...] = (),
        interfaces: tuple[InterfaceHealth, ...] = (),
        entities: tuple[Entity, ...] = (),
        expected: Mapping[str, str] = EMPTY_EXPECTED,
    ) -> None:
        groups = (cpu, memory, temperature, fans, psus)
        readings = [value for group in groups for value in group.values()]
        optic_layout = []
        for optic in optics:
            present = [(bit, v) for bit, name in enumerate(OPTICS) if (v := getattr(optic, name)) is not None]
            optic_layout.append((sys.intern(optic.ifname), sum(1 << bit for bit, _ in present)))
            readings += [value for _, value in present]
        self.unit = unit
        self.layout = _layout(
            vendor,
            tuple(layout(tuple(group)) for group in groups),
            tuple(optic_layout),
            tuple((sys.intern(i.ifname), layout(tuple(i.values))) for i in interfaces),
        )
        self.readings: Sequence[float] = numbers(readings)
        self.counters: Sequence[int] = numbers([v for i in interfaces for v in i.values.values()])
        self.entities = entities
        self._declared = declared_pair(expected)

    @property
    def vendor(self) -> str:
        return self.layout.vendor

    @property
    def expected(self) -> Mapping[str, str]:
        """Inventory's ``model`` / ``serial`` for this unit, when it declares them (kept as the
        pair of the inventory's own strings: a dict per unit and cycle was ~200 B)."""
        return {k: v for k, v in zip(DECLARED, self._declared, strict=True) if v} or EMPTY_EXPECTED

    def _group(self, which: int) -> Mapping[str, float]:
        start = sum(len(labels) for labels in self.layout.groups[:which])
        labels = self.layout.groups[which]
        return Packed(labels, self.readings[start : start + len(labels)]) if labels else EMPTY_READINGS

    @property
    def cpu(self) -> Mapping[str, float]:
        return self._group(0)

    @property
    def memory(self) -> Mapping[str, float]:
        return self._group(1)

    @property
    def temperature(self) -> Mapping[str, float]:
        return self._group(2)

    @property
    def fans(self) -> Mapping[str, float]:
        return self._group(3)

    @property
    def psus(self) -> Mapping[str, float]:
        return self._group(4)

    @property
    def optics(self) -> tuple[Optics, ...]:
        values = iter(self.readings[sum(len(labels) for labels in self.layout.groups) :])
        return tuple(
            Optics(ifname, *(next(values) if mask >> bit & 1 else None for bit in range(len(OPTICS))))
            for ifname, mask in self.layout.optics
        )

    @property
    def interfaces(self) -> tuple[InterfaceHealth, ...]:
        out, start = [], 0
        for ifname, columns in self.layout.interfaces:
            out.append(InterfaceHealth(ifname, Packed(columns, self.counters[start : start + len(columns)])))
            start += len(columns)
        return tuple(out)

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.unit,
            self.layout,
            list(self.readings),
            list(self.counters),
            self.entities,
            self.expected,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceHealth) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        groups = ", ".join(f"{name}={dict(self._group(n))!r}" for n, name in enumerate(GROUPS))
        return (
            f"DeviceHealth(unit={self.unit!r}, vendor={self.vendor!r}, {groups}, optics={self.optics!r}, "
            f"interfaces={self.interfaces!r}, entities={self.entities!r}, expected={self.expected!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _device_health,
            (self.unit, self.layout, self.readings, self.counters, self.entities, self._declared),
        )

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


def _device_health(
    unit: str,
    layout: Layout,
    readings: Sequence[float],
    counters: Sequence[int],
    entities: tuple[Entity, ...],
    declared: tuple[str, str],
) -> DeviceHealth:
    """An unpickled ``DeviceHealth``, its layout shared again."""
    health = DeviceHealth.__new__(DeviceHealth)
    health.unit, health.layout, health.readings, health.counters = unit, layout, readings, counters
    health.entities, health._declared = entities, declared
    return health


def _norm(text: str) -> str:
    return text.strip().casefold()
