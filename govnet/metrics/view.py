"""The daemon's current view of the network: what the collector and the status page read.

Probe workers write here (on the event loop thread, between awaits); the HTTP handlers read it
on the same loop, so a scrape never sees half a cycle. ``version`` moves on every change so the
exposition is rendered at most once per change, not once per scrape.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from govnet.inventory.models import Inventory, Node, Unit
from govnet.monitor.state import Tracker
from govnet.probes.base import ProbeResult


@dataclass
class CycleStat:
    probe: str
    segment: str
    started: float = 0.0
    duration: float = 0.0
    targets: int = 0
    failures: int = 0
    cycles: int = 0
    overruns: int = 0
    """Cycles not started on time because the previous one was still running."""


@dataclass
class View:
    inventory: Inventory
    tracker: Tracker
    site: str
    shard: str = "1/1"
    version: int = 0
    started: float = field(default_factory=time.time)
    icmp: dict[tuple[str, str], ProbeResult] = field(default_factory=dict)
    snmp: dict[str, ProbeResult] = field(default_factory=dict)
    tcp: dict[tuple[str, str, str], ProbeResult] = field(default_factory=dict)
    isolation: dict[tuple[str, str, str], ProbeResult] = field(default_factory=dict)
    cycles: dict[tuple[str, str], CycleStat] = field(default_factory=dict)
    traps: Counter[str] = field(default_factory=Counter)
    traps_dropped: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=50))
    reboots: Counter[str] = field(default_factory=Counter)

    def touch(self) -> None:
        self.version += 1

    def element(self, ident: str) -> Node | Unit | None:
        return self.inventory.element(ident)

    def cycle(self, probe: str, segment: str) -> CycleStat:
        return self.cycles.setdefault((probe, segment), CycleStat(probe, segment))

    def event(self, kind: str, **data: Any) -> None:
        self.events.appendleft({"at": time.time(), "kind": kind, **data})

    def availability(self, segment: str) -> float | None:
        """Share of the segment's units that are up; None before anything was measured."""
        counts = self.tracker.counts(segment)
        measured = sum(counts.values()) - counts["unknown"]
        return counts["up"] / sum(counts.values()) if measured else None
