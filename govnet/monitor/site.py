"""What the daemon keeps of the inventory: a compact, read-only `WatchedSite`, loaded in a child process.

Why: the inventory's pydantic models cost ~9 KB per unit once loaded (90 MB at 10,000 units) and
loading them peaks at ~400 MB (the YAML node graph with line marks, then validation), memory that
CPython's allocator keeps once touched. The daemon needs a few strings per unit (addresses,
parent, names, the device's host, SNMP secret *references*, monitored interfaces, services),
so `load_site` reads and validates the inventory in a forked child (`govnet.osutil.forked`)
and hands back only a `WatchedSite`: ~1 KB per unit, and the daemon's heap never sees the peak.
The isolation matrix (which addresses must NOT answer from which vantage) is computed there too,
since it needs the inventory's address plans.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from govnet.errors import ConfigError, GovnetError, Problem
from govnet.inventory.models import Inventory, Node, SnmpV2c, SnmpV3, Unit, chain_above
from govnet.inventory.select import Shard, select
from govnet.monitor.config import DaemonConfig, load_config
from govnet.probes.base import Target
from govnet.probes.kind import Registry

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Member:
    """An element's place on one segment."""

    address: str
    wave: int | None = None


@dataclass(frozen=True, slots=True)
class SnmpAccess:
    """How to poll a device; secrets are references (``env:`` / ``file:``), resolved when used."""

    version: Literal["v2c", "v3"]
    community: str | None = None
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: str | None = None
    priv_protocol: str | None = None
    priv_key: str | None = None


@dataclass(frozen=True, slots=True)
class WatchedService:
    name: str
    port: int
    segment: str
    host: str | None = None


@dataclass(frozen=True, slots=True)
class WatchedElement:
    """A unit or node, as far as monitoring is concerned (its primary device's facts)."""

    id: str
    name: str
    kind: str
    parent: str | None
    is_unit: bool
    segments: dict[str, Member]
    device: str
    host: str
    hosts: tuple[str, ...]
    """Every device's management address (whose trap is it?)."""
    uplink: str | None = None
    interfaces: tuple[str, ...] = ()
    snmp: SnmpAccess | None = None
    services: tuple[WatchedService, ...] = ()
    platform: str = ""
    model: str | None = None
    """The inventory's installed model and chassis serial (the health probe compares them)."""
    serial: str | None = None
    uplinks: tuple[str, ...] = ()
    """The device's uplink and the inventory's interconnects on this element (always polled by health)."""


@dataclass(frozen=True)
class WatchedSite:
    name: str
    segments: tuple[str, ...]
    nodes: tuple[WatchedElement, ...]
    units: tuple[WatchedElement, ...]
    owned: frozenset[str]
    """Units this daemon (shard) watches."""
    isolation: tuple[Target, ...] = ()
    """The isolation matrix's targets for the configured vantages (owned units only)."""
    _index: dict[str, WatchedElement] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for element in (*self.nodes, *self.units):
            self._index.setdefault(element.id, element)

    def element(self, ident: str) -> WatchedElement | None:
        return self._index.get(ident)

    def parent_chain(self, ident: str) -> list[WatchedElement]:
        """The elements above ``ident``, nearest first (a cycle is stopped, not followed)."""
        return chain_above(self._index, ident)

    @classmethod
    def from_inventory(
        cls, inventory: Inventory, owned: Iterable[str] | None = None, isolation: Iterable[Target] = ()
    ) -> WatchedSite:
        wanted = frozenset(u.id for u in inventory.units) if owned is None else frozenset(owned)
        shared: dict[object, object] = {}
        uplinks: dict[str, list[str]] = {}
        for uplink in inventory.uplinks:
            uplinks.setdefault(uplink.node, []).append(uplink.interface)
        return cls(
            inventory.site.name,
            tuple(inventory.segments),
            tuple(_element(n, shared, uplinks.get(n.id, ())) for n in inventory.nodes),
            tuple(_element(u, shared, uplinks.get(u.id, ())) for u in inventory.units),
            wanted,
            tuple(isolation),
        )


def _element(
    source: Node | Unit, shared: dict[object, object], uplinks: Sequence[str] = ()
) -> WatchedElement:
    """The compact element; values repeated across elements are one object (``shared``), so the
    pickle that carries the site to the daemon holds them once, and so does the daemon.

    The interfaces of the inventory's ``uplinks`` on this element (the provincial interconnect
    on the core) are always monitored: the uplink alert reads their ifOperStatus, and a device
    listing only its trunks would otherwise never be asked about them. An empty list already
    means every interface.
    """

    def one(value: _T) -> _T:
        return shared.setdefault(value, value)  # type: ignore[return-value]

    device = source.device
    snmp: SnmpAccess | None = None
    if isinstance(device.snmp, SnmpV2c):
        snmp = one(SnmpAccess("v2c", community=device.snmp.community))
    elif isinstance(device.snmp, SnmpV3):
        s = device.snmp
        snmp = one(SnmpAccess("v3", None, s.user, s.auth_protocol, s.auth_key, s.priv_protocol, s.priv_key))
    services: tuple[WatchedService, ...] = ()
    if isinstance(source, Unit):
        services = tuple(
            one(WatchedService(s.name, s.port, s.segment, None if s.host is None else str(s.host)))
            for s in source.services
        )
    return WatchedElement(
        id=source.id,
        name=source.name,
        kind=one(source.kind),
        parent=None if source.parent is None else one(source.parent),
        is_unit=isinstance(source, Unit),
        segments={one(name): Member(str(m.address.ip), m.wave) for name, m in source.segments.items()},
        device=device.name,
        host=str(device.host),
        hosts=tuple(str(d.host) for d in source.devices),
        uplink=None if device.uplink is None else one(device.uplink),
        interfaces=one(tuple(one(i) for i in _monitored(device.interfaces, uplinks))),
        snmp=snmp,
        services=one(services),
        platform=one(device.platform),
        model=None if device.model is None else one(device.model),
        serial=device.serial,
        uplinks=one(tuple(one(i) for i in dict.fromkeys([*filter(None, [device.uplink]), *uplinks]))),
    )


def _monitored(listed: Sequence[str], uplinks: Sequence[str]) -> list[str]:
    """
    >>> _monitored(["Eth-Trunk1"], ["GigabitEthernet3/0/1"])
    ['Eth-Trunk1', 'GigabitEthernet3/0/1']
    >>> _monitored([], ["GigabitEthernet3/0/1"])   # nothing listed: every interface already
    []
    """
    if not listed:
        return []
    return [*listed, *(name for name in uplinks if name not in listed)]


def build_site(config: DaemonConfig) -> WatchedSite:
    """Load and validate the config's inventory; the `WatchedSite` this daemon (shard) watches."""
    from govnet.inventory.loader import load  # noqa: PLC0415 - in the loading child only

    inventory = load(config.inventory).inventory
    owned = {u.id for u in select(inventory, shard=config.shard_spec)}
    return WatchedSite.from_inventory(inventory, owned, _isolation(config, inventory, owned))


def _isolation(config: DaemonConfig, inventory: Inventory, owned: set[str]) -> list[Target]:
    """The isolation matrix's targets (they need the whole inventory: built here, in the child)."""
    from govnet.probes.isolation.matrix import isolation_targets  # noqa: PLC0415

    if "isolation" not in config.kinds or not config.enabled("isolation"):
        return []
    block = config.block("isolation")
    try:
        found = isolation_targets(inventory, block.vantages, block.matrix)
    except ConfigError as exc:
        raise config.probe_error("isolation", None, exc) from None
    return [t for t in found if t.unit in owned]


def load_site_bytes(path: Path, shard: Shard | None = None, kinds: Registry | None = None) -> bytes:
    """In the child: the pickled outcome of loading (a `WatchedSite`, or the problems to raise)."""
    try:
        outcome: tuple[str, object] = ("ok", build_site(load_config(path, shard, kinds)))
    except GovnetError as exc:
        outcome = ("error", (type(exc).__name__, list(exc.problems)))
    return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)


def site_from_bytes(data: bytes) -> WatchedSite:
    """In the daemon: the `WatchedSite`, or the child's error raised again (same class, same problems)."""
    kind, value = pickle.loads(data)  # noqa: S301 - our own child's output, over a private pipe
    if kind == "ok":
        assert isinstance(value, WatchedSite)
        return value
    name, problems = value
    errors: dict[str, type[GovnetError]] = {c.__name__: c for c in _error_classes()}
    raise errors.get(name, GovnetError)([p for p in problems if isinstance(p, Problem)])


def _error_classes() -> list[type[GovnetError]]:
    out: list[type[GovnetError]] = []
    todo: list[type[GovnetError]] = [GovnetError]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out
