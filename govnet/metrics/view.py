"""The daemon's current view of the network: what the collector and the status page read.

Probe workers write here (on the event loop thread, between awaits); the HTTP handlers read it
on the same loop, so a request never sees half a cycle. ``version`` moves on every change and
``touch`` tells the exporter, which renders the exposition from a `Snapshot` (copied on the loop,
rendered in a worker thread) at most once per change, never once per scrape.

What each probe kind measured is its *part* (``parts``): immutable, replaced by the kind's
``record`` after each cycle, shared by the snapshot without a copy and read by the kind's own
collector (`govnet.probes.kind`). The daemon's own bookkeeping has the same shape: small frozen
records (`DaemonCounters`, `TrapTally`, `ReloadStatus`, `ComplianceState`), each replaced whole by
its one writer and shared by the snapshot. The view holds the daemon's `WatchedSite` and `Tracker`
(`govnet.monitor`) but knows them only by the protocols below, what the exports read of them:
the daemon imports this package, not the other way round.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from govnet.probes.kind import Registry

if TYPE_CHECKING:  # the drift check pulls in netmiko and hier_config: not at daemon start
    from govnet.compliance.check import UnitReport

State = Literal["up", "down", "unreachable", "unknown"]
"""A unit's state on a segment, as `govnet.monitor.state.Tracker` decides it."""
STATES: tuple[State, ...] = ("up", "down", "unreachable", "unknown")


class MemberView(Protocol):
    """An element's place on one segment (`govnet.monitor.site.Member`)."""

    @property
    def wave(self) -> int | None: ...


class ElementView(Protocol):
    """A unit or node as the exports name it (`govnet.monitor.site.WatchedElement`)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def parent(self) -> str | None: ...

    @property
    def segments(self) -> Mapping[str, MemberView]: ...


class SiteView(Protocol):
    """The inventory as the daemon watches it (`govnet.monitor.site.WatchedSite`)."""

    @property
    def segments(self) -> Sequence[str]: ...

    def element(self, ident: str) -> ElementView | None: ...


class StateEntry(Protocol):
    """What the daemon believes of one element on one segment (`govnet.monitor.state.Entry`)."""

    @property
    def element(self) -> str: ...

    @property
    def segment(self) -> str: ...

    @property
    def is_unit(self) -> bool: ...

    @property
    def state(self) -> State: ...

    @property
    def since(self) -> float: ...

    @property
    def detail(self) -> str: ...

    @property
    def path_hop(self) -> str | None: ...

    @property
    def path_hops(self) -> int | None: ...

    @property
    def answered(self) -> bool | None: ...

    @property
    def rtt(self) -> float | None: ...

    @property
    def loss(self) -> float | None: ...


class StateSource(Protocol):
    """Unit states per segment (`govnet.monitor.state.Tracker`)."""

    @property
    def entries(self) -> Mapping[tuple[str, str], StateEntry]: ...

    def counts(self, segment: str) -> dict[State, int]: ...


@dataclass(frozen=True, slots=True)
class CycleStat:
    """One probe kind's cycles on one segment; replaced whole by its writers (``View.set_cycle``),
    so a snapshot shares it rather than copying it."""

    probe: str
    segment: str
    started: float = 0.0
    duration: float = 0.0
    targets: int = 0
    failures: int = 0
    cycles: int = 0
    overruns: int = 0
    """Cycles not started on time because the previous one was still running."""
    finished_clock: float = 0.0
    """When the last cycle ended, on the monotonic clock (health: immune to wall-clock steps)."""

    def finished(
        self, started: float, duration: float, clock: float, targets: int, failures: int
    ) -> CycleStat:
        """This record after one more cycle (``clock``: its end on the monotonic clock)."""
        return dataclasses.replace(
            self,
            started=started,
            duration=duration,
            finished_clock=clock,
            targets=targets,
            failures=failures,
            cycles=self.cycles + 1,
        )

    def overrun(self) -> CycleStat:
        return dataclasses.replace(self, overruns=self.overruns + 1)


@dataclass(frozen=True, slots=True)
class RolloutSeen:
    """The newest rollout run of one kind (apply / rollback) on one segment, from the state store."""

    segment: str
    kind: str
    run: str
    started: float
    ended: float | None
    running: bool
    units: tuple[tuple[str, int], ...]
    """(result, count) of its units; ``pending`` for units not finished."""


@dataclass(frozen=True, slots=True)
class EntryState:
    """One tracker entry as it was when the snapshot was taken."""

    element: str
    segment: str
    is_unit: bool
    state: State
    since: float
    path_hop: str | None
    path_hops: int | None
    answered: bool | None
    rtt: float | None
    loss: float | None


@dataclass(frozen=True, slots=True)
class DaemonCounters:
    """The daemon's own bookkeeping after its last cycle; its one writer is `govnet.monitor.daemon`,
    which replaces it whole (``dataclasses.replace``), so a snapshot shares it without a copy."""

    tasks: int = 0
    """asyncio tasks alive in the daemon after the last cycle (a leak shows as growth)."""
    loop_lag: float = 0.0
    """The worst lateness of the daemon's event loop over the last minute (a blocked loop)."""
    traps_dropped: int = 0
    """Traps the receiver dropped (rate, queue) or rejected, as its counts were after a cycle."""
    refused: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """Targets outside allowed_networks per (probe, segment) job (a new mapping on each change)."""


@dataclass(frozen=True, slots=True)
class TrapTally:
    """Traps received per kind and the polls they triggered; written only by `govnet.monitor.traphandler`."""

    by_kind: Mapping[str, int] = field(default_factory=dict)
    polls: int = 0
    """SNMP polls of one device triggered by a trap (not by the schedule)."""

    def received(self, kind: str) -> TrapTally:
        return TrapTally({**self.by_kind, kind: self.by_kind.get(kind, 0) + 1}, self.polls)

    def polled(self) -> TrapTally:
        return TrapTally(self.by_kind, self.polls + 1)


@dataclass(frozen=True, slots=True)
class ReloadStatus:
    """The running config's load; written only by the daemon's SIGHUP reload (and its start)."""

    ok: bool
    """Whether the last SIGHUP reload was applied (True until one is refused)."""
    at: float
    """When the running config was loaded (start or last applied reload), wall clock."""


@dataclass(frozen=True, slots=True)
class ComplianceState:
    """The last drift check's result; written only by `govnet.monitor.drift` (and pruned on reload)."""

    reports: Mapping[str, UnitReport] = field(default_factory=dict)
    """The last drift check's report per unit (govnet.compliance)."""
    checked: Mapping[str, float] = field(default_factory=dict)
    """When each unit's config was last read and compared (an unreachable unit keeps the old time)."""

    def recorded(self, reports: Sequence[UnitReport]) -> ComplianceState:
        """These reports added; a unit whose state is unknown keeps its last checked time."""
        checked = {**self.checked, **{r.unit: r.checked for r in reports if r.state != "unknown"}}
        return ComplianceState({**self.reports, **{r.unit: r for r in reports}}, checked)

    def kept(self, keep: set[str]) -> ComplianceState:
        return ComplianceState(
            {k: v for k, v in self.reports.items() if k in keep},
            {k: v for k, v in self.checked.items() if k in keep},
        )


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of the view, safe to read from another thread while probes go on."""

    inventory: SiteView
    site: str
    shard: str
    version: int
    entries: tuple[EntryState, ...]
    kinds: Registry
    parts: Mapping[str, Any]
    """Each probe kind's part as its last cycle left it (immutable: shared, not copied)."""
    cycles: tuple[CycleStat, ...]
    render_seconds: float
    counters: DaemonCounters = DaemonCounters()
    trapped: TrapTally = TrapTally()
    reload: ReloadStatus = field(default_factory=lambda: ReloadStatus(True, 0.0))
    compliance: ComplianceState = ComplianceState()
    rollouts: tuple[RolloutSeen, ...] = ()

    def segments_of(self, element: str) -> Sequence[str]:
        """The segments an element is on (a device's agent serves each of them)."""
        found = self.inventory.element(element)
        return list(found.segments) if found is not None else []

    def counts(self, segment: str) -> dict[State, int]:
        out: dict[State, int] = dict.fromkeys(STATES, 0)
        for entry in self.entries:
            if entry.is_unit and entry.segment == segment:
                out[entry.state] += 1
        return out


@dataclass
class View:
    inventory: SiteView
    tracker: StateSource
    site: str
    shard: str = "1/1"
    kinds: Registry = field(default_factory=lambda: Registry([]))
    """The probe kinds whose parts it holds (the daemon's registry)."""
    version: int = 0
    started: float = field(default_factory=time.time)
    started_clock: float = field(default_factory=time.monotonic)
    reload: ReloadStatus = field(default_factory=lambda: ReloadStatus(True, time.time()))
    parts: dict[str, Any] = field(default_factory=dict)
    """Each probe kind's immutable part of the snapshot, replaced (never changed) by its cycles."""
    cycles: dict[tuple[str, str], CycleStat] = field(default_factory=dict)
    counters: DaemonCounters = DaemonCounters()
    """The daemon's own bookkeeping (immutable: replaced whole by the daemon, shared by snapshots)."""
    trapped: TrapTally = TrapTally()
    """Traps received (immutable: replaced whole by the trap handler)."""
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=50))
    listeners: list[Callable[[], None]] = field(default_factory=list)
    render_seconds: float = 0.0
    """How long the last render of the exposition took (set by the exporter; not a change)."""
    compliance: ComplianceState = ComplianceState()
    """The last drift check (immutable: replaced whole by the drift check)."""
    rollouts: tuple[RolloutSeen, ...] = ()
    """The newest rollout runs per segment and kind (read from the state store, if configured)."""

    def touch(self) -> None:
        self.version += 1
        for listener in self.listeners:
            listener()

    def element(self, ident: str) -> ElementView | None:
        return self.inventory.element(ident)

    def cycle(self, probe: str, segment: str) -> CycleStat:
        """The kind's cycle record on ``segment`` (an empty one before anything happened)."""
        return self.cycles.get((probe, segment)) or CycleStat(probe, segment)

    def set_cycle(self, stat: CycleStat) -> None:
        self.cycles[(stat.probe, stat.segment)] = stat

    def event(self, kind: str, **data: Any) -> None:
        self.events.appendleft({"at": time.time(), "kind": kind, **data})

    def availability(self, segment: str) -> float | None:
        """Share of the segment's units that are up; None before anything was measured."""
        return availability(self.tracker.counts(segment))

    def part(self, kind: str) -> Any:
        """A kind's part: the last one recorded, else its empty one."""
        return self.parts.get(kind, self.kinds[kind].empty)

    def prune(self, keep: set[str]) -> None:
        """Forget what was measured of elements no longer watched (after a reload): their series go."""
        self.parts = {name: self.kinds[name].prune(part, keep) for name, part in self.parts.items()}
        self.compliance = self.compliance.kept(keep)

    def snapshot(self) -> Snapshot:
        """Copies of what the collector reads that changes in place (the tracker's entries); the
        parts, the cycle records and the daemon's bookkeeping are immutable: shared, not copied."""
        return Snapshot(
            inventory=self.inventory,
            site=self.site,
            shard=self.shard,
            version=self.version,
            entries=tuple(
                EntryState(
                    e.element,
                    e.segment,
                    e.is_unit,
                    e.state,
                    e.since,
                    e.path_hop,
                    e.path_hops,
                    e.answered,
                    e.rtt,
                    e.loss,
                )
                for e in self.tracker.entries.values()
            ),
            kinds=self.kinds,
            parts={name: self.part(name) for name in self.kinds},
            cycles=tuple(self.cycles.values()),
            render_seconds=self.render_seconds,
            counters=self.counters,
            trapped=self.trapped,
            reload=self.reload,
            compliance=self.compliance,
            rollouts=self.rollouts,
        )


def availability(counts: dict[State, int]) -> float | None:
    """Share of units up among all units of a segment; None when none was measured yet.

    >>> availability({"up": 3, "down": 1, "unreachable": 0, "unknown": 0})
    0.75
    >>> availability({"up": 0, "down": 0, "unreachable": 0, "unknown": 4}) is None
    True
    """
    total = sum(counts.values())
    return counts["up"] / total if total - counts["unknown"] else None
