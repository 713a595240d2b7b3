"""What a probe kind is: the record one package (``govnet/probes/<kind>/``) gives the registry.

A kind provides, in one place:

- ``settings``: ONE strict pydantic model (`govnet.probes.common.ProbeSettings`). The daemon's
  config embeds it under ``probes.<name>`` and ``segments.<segment>.<name>`` (with ``interval``
  and ``enabled`` added), so a bad key is reported at its ``FILE:LINE`` from the YAML marks;
- ``make``: its probe (`govnet.probes.base.Probe`) from validated settings; the daemon fills in
  ``allowed_networks``. A ``ConfigError`` naming a ``field`` (a missing namespace) is placed at
  that field's line;
- ``targets``: which targets the daemon builds for it from the site (a rule of
  `govnet.monitor.targets`: ``addresses``, ``services``, ``devices``, ``isolation``), which
  also says its jobs (one per segment, or one ``management`` / ``party`` job);
- ``record``: how one cycle's results change unit state (`UnitStates`) and its *part* of the
  snapshot. A part is immutable: ``record`` returns a new one (and the events to log); the
  daemon keeps the newest part per kind and the exporter reads it from another thread;
- ``collector``: its own prometheus-client ``Collector`` over its part, read at scrape time;
  ``success``: its samples of the shared ``govnet_probe_success`` family, if it has any (one
  metric family may be written by one collector only).

Adding a kind is one package and one line in the registry the daemon is handed
(`govnet.probes.registry.default_kinds`). The daemon names a shipped kind only where another
feature builds on it: traps and the SNMP engine renewal (``snmp``), the isolation matrix's
targets and the status page (``isolation``), ``govnet probe`` (``icmp``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from prometheus_client.registry import Collector

from govnet.probes.base import Probe, ProbeResult, Target
from govnet.probes.common import ProbeSettings

S = TypeVar("S", bound=ProbeSettings)
P = TypeVar("P")
TargetRule = Literal["addresses", "services", "devices", "isolation"]
Event = dict[str, Any]


class UnitStates(Protocol):
    """What a cycle may change of unit state (`govnet.monitor.state.Tracker`)."""

    def observe(
        self, element: str, segment: str, success: bool, detail: str = "", at: float | None = None
    ) -> None: ...

    def measure(
        self, element: str, segment: str, address: str, answered: bool, rtt: float | None, loss: float | None
    ) -> None: ...

    def resolve(self) -> Sequence[Any]: ...


class DeviceFacts(Protocol):
    """What the inventory says of a polled device (`govnet.monitor.site.WatchedElement`), for ``device_params``."""

    @property
    def platform(self) -> str: ...

    @property
    def model(self) -> str | None: ...

    @property
    def serial(self) -> str | None: ...

    @property
    def uplinks(self) -> tuple[str, ...]: ...


class EntryView(Protocol):
    """One element's state on one segment as a collector reads it (`govnet.metrics.view.EntryState`)."""

    @property
    def element(self) -> str: ...

    @property
    def segment(self) -> str: ...

    @property
    def answered(self) -> bool | None: ...

    @property
    def rtt(self) -> float | None: ...

    @property
    def loss(self) -> float | None: ...


class SnapshotView(Protocol):
    """What a kind's collector may read besides its own part (`govnet.metrics.view.Snapshot`)."""

    @property
    def entries(self) -> Sequence[EntryView]: ...

    def segments_of(self, element: str) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Recorded(Generic[P]):
    """What recording one cycle gives back: the kind's new part, events to log, state transitions."""

    part: P
    events: tuple[Event, ...] = ()
    transitions: Sequence[Any] = ()


SuccessSamples = Iterator[tuple[str, str, bool]]
"""(segment, unit, success) samples of ``govnet_probe_success`` for one kind."""


def _same(part: Any, *_: Any) -> Any:
    return part


def _no_success(part: Any, scope: SnapshotView) -> SuccessSamples:
    return iter(())


@dataclass(frozen=True)
class Kind(Generic[S, P]):
    """One probe kind (see the module doc). ``P`` is its snapshot part, ``S`` its settings model."""

    name: str
    settings: type[S]
    interval: float
    """Seconds between cycles when the config says nothing."""
    make: Callable[[S], Probe]
    targets: TargetRule
    empty: P
    """Its part before the first cycle."""
    record: Callable[[P, str, Sequence[ProbeResult], UnitStates], Recorded[P]]
    collector: Callable[[P, SnapshotView], Collector]
    success: Callable[[P, SnapshotView], SuccessSamples] = _no_success
    prepare: Callable[[P, Sequence[Target]], P] = field(default=_same)
    """The part once a job's targets are known (at start and after a reload), e.g. a reboot
    counter at 0 for every polled device."""
    prune: Callable[[P, set[str]], P] = field(default=_same)
    """The part without elements no longer watched (after a reload): their series go."""
    batch: int | None = None
    """Targets handed to its probe at once (None: all of a job's at once)."""
    opt_in: bool = False
    """Only run when its block is in the config (it has no usable defaults, e.g. vantages)."""
    device_params: Callable[[DeviceFacts], Mapping[str, Any]] | None = None
    """For a ``devices`` kind: params its targets carry besides the SNMP access (the inventory's
    facts about the device, e.g. the health probe's uplinks, vendor, model and serial)."""

    def build(self, settings: ProbeSettings) -> Probe:
        """``make`` for settings typed by the config's (dynamic) block model."""
        assert isinstance(settings, self.settings)
        return self.make(settings)


class Registry(Mapping[str, "Kind[Any, Any]"]):
    """Kinds by name, in the order given (the config's ``probes:`` keys, the job order)."""

    def __init__(self, kinds: Iterable[Kind[Any, Any]]) -> None:
        self._kinds: dict[str, Kind[Any, Any]] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"probe kind {kind.name} registered twice")
            self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> Kind[Any, Any]:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def with_kind(self, kind: Kind[Any, Any]) -> Registry:
        """This registry and one more kind (tests add a trivial one)."""
        return Registry([*self._kinds.values(), kind])
