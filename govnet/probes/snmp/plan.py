"""What the ``snmp`` probe asks each unit, decided once at discovery and reused every cycle.

Pure functions and plain data, no I/O: which interfaces a unit's ``interfaces`` list means
(ifName first, ifDescr second), which IF-MIB columns exist for each of them (ifHCInOctets,
else the 32-bit ifInOctets, else nothing), how the resulting varbinds are cut into PDUs of at
most ``max_varbinds``, and how an answer becomes ``InterfaceStatus`` records. Devices differ
in exactly these gaps (see ``shared/data/snmprec/README.md``), so they are data here, not
branches in the probe.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from govnet.probes.base import InterfaceStatus
from govnet.probes.snmp.ber import Missing, Oid, RequestTemplate, Response, Value

T = TypeVar("T")

SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
IF_NAME: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
IF_DESCR: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)


@dataclass(frozen=True, slots=True)
class IfColumn:
    """An IF-MIB column feeding one ``InterfaceStatus`` field, with its older fallback column."""

    field: str
    oid: Oid
    fallback: Oid | None = None


COLUMNS: dict[str, IfColumn] = {
    c.field: c
    for c in (
        IfColumn("oper_status", (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)),
        IfColumn("admin_status", (1, 3, 6, 1, 2, 1, 2, 2, 1, 7)),
        IfColumn("in_octets", (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), fallback=(1, 3, 6, 1, 2, 1, 2, 2, 1, 10)),
        IfColumn("out_octets", (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10), fallback=(1, 3, 6, 1, 2, 1, 2, 2, 1, 16)),
        IfColumn("speed_mbps", (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15)),
        IfColumn("alias", (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18)),
    )
}
"""ifOperStatus is always polled; the others are the probe's ``columns`` setting."""


def decode_text(raw: bytes) -> str:
    """Interface names and aliases: UTF-8, else GB18030 (Chinese devices), else Latin-1.

    >>> decode_text(b"GigabitEthernet0/0/1"), decode_text("上联".encode("gb18030"))
    ('GigabitEthernet0/0/1', '上联')
    """
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec).rstrip("\x00")
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1").rstrip("\x00")


def select_interfaces(
    wanted: Sequence[str], names: Mapping[int, str], descrs: Mapping[int, str]
) -> tuple[list[tuple[int, str]], list[str]]:
    """(ifIndex, reported name) of the monitored interfaces, and the wanted names not found.

    An empty ``wanted`` means every interface, named by ifName (ifDescr where that is missing or
    empty), in ifIndex order. Otherwise each wanted name matches ifName, else ifDescr, and
    keeps the spelling the inventory used.

    >>> select_interfaces([], {2: "Gi0/2", 1: "Gi0/1"}, {})
    ([(1, 'Gi0/1'), (2, 'Gi0/2')], [])
    >>> select_interfaces(["GigabitEthernet0/1", "Gi0/2", "Te9"], {1: "Gi0/1", 2: "Gi0/2"}, {1: "GigabitEthernet0/1"})
    ([(1, 'GigabitEthernet0/1'), (2, 'Gi0/2')], ['Te9'])
    """
    if not wanted:
        indexes = sorted(set(names) | set(descrs))
        return [(index, names.get(index) or descrs.get(index) or str(index)) for index in indexes], []
    chosen: list[tuple[int, str]] = []
    missing: list[str] = []
    for name in wanted:
        index = names_index(name, names)
        if index is None:
            index = names_index(name, descrs)
        if index is None:
            missing.append(name)
        elif all(index != seen for seen, _ in chosen):
            chosen.append((index, name))
    return chosen, missing


def names_index(name: str, table: Mapping[int, str]) -> int | None:
    """Lowest ifIndex whose entry in ``table`` is ``name``.

    >>> names_index("lo", {3: "lo", 1: "lo"}), names_index("x", {})
    (1, None)
    """
    found = [index for index, value in table.items() if value == name]
    return min(found) if found else None


Slot = tuple[int, str] | None
"""(position in the plan's interface list, InterfaceStatus field), or None for sysUpTime."""
Cell = tuple[int, str, Oid]
"""(position, field, OID instance) of one value polled."""


class Shared:
    """One copy of each equal immutable value (tuple, bytes, template) kept in plans.

    Why: a plan is ~3.5 KB of tuples per unit (OIDs of 12 integers, cells, slots, the encoded
    GET), and units of one model watching the same ports have equal plans: at 10,000 units the
    copies were ~25 MB of the daemon (bench/README.md, "Baseline memory"). Bounded: when full,
    the table is emptied (plans keep what they hold; later plans share afresh), so layouts
    that disappear over months are not kept.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._values: dict[Hashable, Any] = {}

    def __call__(self, value: T) -> T:
        """``value``, or the equal one already kept (``value`` must be hashable)."""
        return self.keyed(value, lambda: value)

    def keyed(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept under ``key``, made (and kept) on first use."""
        found = self._values.get(key)
        if found is None:
            if len(self._values) >= self.limit:
                self._values.clear()
            found = self._values[key] = make()
        return found

    def __len__(self) -> int:
        return len(self._values)


SHARED = Shared()
"""The plans' shared values (one table per process: equal tuples are equal whatever probe made them)."""


@dataclass(slots=True)
class Pdu:
    """One GET: its OIDs, what each answer feeds, and (v2c) the request encoded once."""

    oids: Sequence[Oid]
    slots: Sequence[Slot]
    template: RequestTemplate | None = None


@dataclass(slots=True)
class RequestPlan:
    """Everything a steady-state cycle needs for one unit; its sequences are shared tuples."""

    interfaces: Sequence[tuple[int, str]]
    cells: Sequence[Cell]
    """Every value polled, sysUpTime excluded."""
    missing: Sequence[str]
    discovered_at: float
    max_varbinds: int
    pdus: Sequence[Pdu] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self.interfaces = SHARED(tuple(self.interfaces))
        self.cells = SHARED(tuple(self.cells))
        self.missing = SHARED(tuple(self.missing))
        if not self.pdus:
            self.pdus = build_pdus(self.cells, self.max_varbinds)

    def split(self, max_varbinds: int) -> None:
        """Re-cut the PDUs smaller (after an agent answered tooBig)."""
        self.max_varbinds = max_varbinds
        self.pdus = build_pdus(self.cells, max_varbinds)


def build_pdus(cells: Sequence[Cell], max_varbinds: int) -> tuple[Pdu, ...]:
    """sysUpTime first, then the cells in order, cut into PDUs of at most ``max_varbinds``.

    >>> [len(p.oids) for p in build_pdus([(0, "oper_status", (1, 3, i)) for i in range(80)], 40)]
    [40, 40, 1]
    """
    oids: list[Oid] = [SYS_UPTIME, *(SHARED(oid) for _, _, oid in cells)]
    slots: list[Slot] = [None, *(SHARED((position, name)) for position, name, _ in cells)]
    size = max(1, max_varbinds)
    return tuple(
        Pdu(SHARED(tuple(oids[i : i + size])), SHARED(tuple(slots[i : i + size])))
        for i in range(0, len(oids), size)
    )


def candidate_cells(interfaces: Sequence[tuple[int, str]], columns: Sequence[str]) -> list[Cell]:
    """Every (interface, column) a discovery GET tries first: the preferred column of each.

    >>> candidate_cells([(7, "lo")], ["oper_status", "in_octets"])
    [(0, 'oper_status', (1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 7)), (0, 'in_octets', (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 7))]
    """
    return [
        SHARED((position, name, SHARED((*COLUMNS[name].oid, index))))
        for position, (index, _) in enumerate(interfaces)
        for name in columns
    ]


def read_answers(pdus: Sequence[Pdu], responses: Sequence[Response]) -> tuple[int | None, dict[Slot, Value]]:
    """(sysUpTime ticks, value per slot) from the responses to ``pdus``, in the same order.

    Raises ValueError when an agent answers other OIDs than asked (a broken or confused agent).
    """
    uptime: int | None = None
    values: dict[Slot, Value] = {}
    for pdu, response in zip(pdus, responses, strict=True):
        if len(response.varbinds) != len(pdu.oids):
            raise ValueError(f"agent answered {len(response.varbinds)} of {len(pdu.oids)} OIDs")
        for oid, slot, (answered, value) in zip(pdu.oids, pdu.slots, response.varbinds, strict=True):
            if answered != oid:
                raise ValueError("agent answered other OIDs than asked")
            if slot is None:
                uptime = value if isinstance(value, int) else None
            else:
                values[slot] = value
    return uptime, values


def interface_statuses(
    interfaces: Sequence[tuple[int, str]], values: Mapping[Slot, Value]
) -> tuple[InterfaceStatus, ...]:
    """Turn polled values into records; an interface without ifOperStatus is left out."""
    out: list[InterfaceStatus] = []
    for position, (index, name) in enumerate(interfaces):
        oper = values.get((position, "oper_status"))
        if not isinstance(oper, int):
            continue
        alias = values.get((position, "alias"))
        out.append(
            InterfaceStatus(
                index=index,
                name=name,
                oper_status=oper,
                admin_status=_int(values.get((position, "admin_status"))),
                in_octets=_int(values.get((position, "in_octets"))),
                out_octets=_int(values.get((position, "out_octets"))),
                speed_mbps=_int(values.get((position, "speed_mbps"))),
                alias=decode_text(alias) if isinstance(alias, bytes) else "",
            )
        )
    return tuple(out)


def _int(value: Value) -> int | None:
    return value if isinstance(value, int) else None


def absent(value: Value) -> bool:
    """True for noSuchObject / noSuchInstance / endOfMibView (and a NULL placeholder)."""
    return value is None or isinstance(value, Missing)
