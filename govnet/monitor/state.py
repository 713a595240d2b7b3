"""Unit state per segment: up, down, unreachable (its parent is down: not its fault), unknown.

A unit goes down only after ``down_after`` consecutive failed cycles (one lost cycle on a real
network is not an outage), but a linkDown trap for its uplink takes it down at once. States are
resolved top-down along the inventory's parent chain so that, when an aggregation node fails,
the units behind it are ``unreachable`` and only the node is ``down``: one alert, not a flood.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from govnet.metrics.view import STATES, State, View


@dataclass(slots=True)
class Entry:
    """What the daemon believes about one element (unit or node) on one segment."""

    element: str
    segment: str
    is_unit: bool
    parent: str | None
    state: State = "unknown"
    failures: int = 0
    since: float = field(default_factory=time.time)
    last_seen: float | None = None
    detail: str = ""
    path_hop: str | None = None
    path_hops: int | None = None
    # the last ICMP cycle's measurement, kept here rather than as 30,000 ProbeResults
    address: str = ""
    answered: bool | None = None
    """None until probed; then whether the last cycle got an echo reply."""
    rtt: float | None = None
    loss: float | None = None


@dataclass(frozen=True)
class Transition:
    element: str
    segment: str
    old: State
    new: State
    at: float


class Hierarchy(Protocol):
    """What the tracker needs of an inventory: the inventory itself, or the daemon's `WatchedSite`."""

    @property
    def nodes(self) -> Sequence[HierarchyMember]: ...

    @property
    def units(self) -> Sequence[HierarchyMember]: ...

    def parent_chain(self, ident: str) -> Sequence[object]: ...


class HierarchyMember(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def parent(self) -> str | None: ...

    @property
    def segments(self) -> Collection[str]: ...


class Tracker:
    """Consecutive-failure counting and parent-aware resolution for every (element, segment)."""

    def __init__(self, inventory: Hierarchy, down_after: int, elements: Iterable[str] | None = None) -> None:
        self.down_after = down_after
        self.entries: dict[tuple[str, str], Entry] = {}
        wanted = set(elements) if elements is not None else None
        units = {u.id for u in inventory.units}
        members = [*inventory.nodes, *inventory.units]
        for element in members:
            is_unit = element.id in units
            if wanted is not None and element.id not in wanted and is_unit:
                continue
            for segment in element.segments:
                self.entries[(element.id, segment)] = Entry(element.id, segment, is_unit, element.parent)
        depth = {e.id: len(inventory.parent_chain(e.id)) for e in members}
        self._order = sorted(self.entries, key=lambda key: depth.get(key[0], 0))

    def adopt(self, old: Tracker) -> None:
        """Keep what an earlier tracker knew of the elements still watched (a reload resets nothing)."""
        for key, entry in self.entries.items():
            before = old.entries.get(key)
            if before is not None:
                entry.state, entry.failures, entry.since = before.state, before.failures, before.since
                entry.last_seen, entry.detail = before.last_seen, before.detail
                entry.path_hop, entry.path_hops = before.path_hop, before.path_hops
                entry.address, entry.answered = before.address, before.answered
                entry.rtt, entry.loss = before.rtt, before.loss

    def get(self, element: str, segment: str) -> Entry | None:
        return self.entries.get((element, segment))

    def measure(
        self, element: str, segment: str, address: str, answered: bool, rtt: float | None, loss: float | None
    ) -> None:
        """Keep the last ICMP measurement of an element on a segment (what the exports show of it)."""
        entry = self.entries.get((element, segment))
        if entry is not None:
            entry.address, entry.answered, entry.rtt, entry.loss = address, answered, rtt, loss

    def observe(
        self, element: str, segment: str, success: bool, detail: str = "", at: float | None = None
    ) -> None:
        """Record one cycle's verdict for an element; call `resolve` after a batch."""
        entry = self.entries.get((element, segment))
        if entry is None:
            return
        now = at if at is not None else time.time()
        if success:
            entry.failures = 0
            entry.last_seen = now
            entry.detail = ""
        else:
            entry.failures += 1
            entry.detail = detail

    def force_down(self, element: str, detail: str) -> None:
        """A trap said the element's uplink went down: no need to wait for cycles."""
        for (name, _segment), entry in self.entries.items():
            if name == element:
                entry.failures = max(entry.failures, self.down_after)
                entry.detail = detail

    def resolve(self, at: float | None = None) -> list[Transition]:
        """Recompute states parents first; return what changed."""
        now = at if at is not None else time.time()
        changes = []
        held: set[tuple[str, str]] = set()
        for key in self._order:
            entry = self.entries[key]
            new = self._state_of(entry, held)
            if new != entry.state:
                changes.append(Transition(entry.element, entry.segment, entry.state, new, now))
                entry.state, entry.since = new, now
                if new != "down":  # the path localised while it was down no longer applies
                    entry.path_hop = entry.path_hops = None
        return changes

    def _state_of(self, entry: Entry, held: set[tuple[str, str]]) -> State:
        if entry.failures == 0:
            return "up" if entry.last_seen is not None else "unknown"
        if entry.failures < self.down_after:
            return entry.state if entry.state != "unknown" else "unknown"
        parent = self.entries.get((entry.parent, entry.segment)) if entry.parent else None
        if parent is not None and parent.state in ("down", "unreachable"):
            return "unreachable"
        if parent is not None and (parent.failures or (parent.element, parent.segment) in held):
            # The parent is failing too but not down yet (it missed fewer cycles: the fault came
            # between their echoes). Wait for its verdict rather than raise one alert per unit
            # behind it now and turn them all "unreachable" a cycle later.
            held.add((entry.element, entry.segment))
            return entry.state
        return "down"

    def counts(self, segment: str) -> dict[State, int]:
        """Units (not nodes) per state on a segment."""
        out: dict[State, int] = dict.fromkeys(STATES, 0)
        for entry in self.entries.values():
            if entry.is_unit and entry.segment == segment:
                out[entry.state] += 1
        return out


@dataclass
class DaemonView(View):
    """The metrics `View` as the daemon writes it: with its `Tracker` (the view itself knows only
    what the exports read of it, a `StateSource`)."""

    tracker: Tracker
