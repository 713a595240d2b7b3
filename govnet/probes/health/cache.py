"""When a unit's interface and entity tables must be walked again: a small pure cache.

Walking ENTITY-MIB and the vendor tables costs tens of GETBULKs per device, the steady-state
cycle one or two GETs; so the walk happens on first sight, on a slow schedule, when sysUpTime
went back (a reboot renumbers ifIndex and entPhysicalIndex), when a polled cell vanished (a
module pulled) and when a trap about the unit arrived (linkUp/Down, entity change, coldStart).
Times are the caller's monotonic clock, so tests step it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass(slots=True)
class _Entry(Generic[P]):
    plan: P
    at: float
    uptime: int | None
    flagged: str = ""
    seen: float = 0.0


@dataclass(slots=True)
class PlanCache(Generic[P]):
    """Per unit key: the last plan, when it was made and the sysUpTime then.

    >>> cache: PlanCache[str] = PlanCache(interval=3600)
    >>> cache.reason("sw1", now=0.0, uptime=100)
    'first poll'
    >>> cache.store("sw1", "plan", now=0.0, uptime=100)
    >>> cache.reason("sw1", now=60.0, uptime=6100) is None
    True
    >>> cache.reason("sw1", now=120.0, uptime=50)
    'agent restarted (sysUpTime went back)'
    >>> cache.flag("sw1", "trap linkDown"); cache.reason("sw1", now=130.0, uptime=20000)
    'trap linkDown'
    """

    interval: float
    """Seconds between scheduled rediscoveries (0: only on a reboot, a vanished cell or a trap)."""
    _entries: dict[str, _Entry[P]] = field(default_factory=dict)

    def get(self, key: str, now: float | None = None) -> P | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now is not None:
            entry.seen = now
        return entry.plan

    def reason(self, key: str, now: float, uptime: int | None) -> str | None:
        """Why ``key`` must be rediscovered now, or None when its plan is still good."""
        entry = self._entries.get(key)
        if entry is None:
            return "first poll"
        if entry.flagged:
            return entry.flagged
        if uptime is not None and entry.uptime is not None and uptime < entry.uptime:
            return "agent restarted (sysUpTime went back)"
        if 0 < self.interval <= now - entry.at:
            return "scheduled rediscovery"
        return None

    def store(self, key: str, plan: P, now: float, uptime: int | None) -> None:
        self._entries[key] = _Entry(plan, now, uptime, seen=now)

    def replace(self, key: str, plan: P) -> None:
        """The same plan, grown (e.g. a request encoded once): its age and sysUpTime unchanged."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.plan = plan

    def seen(self, key: str, uptime: int | None) -> None:
        """Remember this cycle's sysUpTime (a later smaller one is a reboot)."""
        entry = self._entries.get(key)
        if entry is not None and uptime is not None:
            entry.uptime = uptime

    def flag(self, key: str, why: str) -> None:
        """A trap or a vanished cell: rediscover at the next cycle."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.flagged = why

    def forget(self, keep: set[str]) -> None:
        for key in [k for k in self._entries if k not in keep]:
            del self._entries[key]

    def prune(self, now: float, max_age: float) -> None:
        """Forget units not asked about (``get`` with ``now``) for ``max_age`` seconds."""
        for key in [k for k, e in self._entries.items() if now - e.seen > max_age]:
            del self._entries[key]

    def plans(self) -> dict[str, tuple[P, int | None]]:
        """Every key's plan and the sysUpTime it was made at (what a forked discovery hands back)."""
        return {key: (e.plan, e.uptime) for key, e in self._entries.items()}

    def __len__(self) -> int:
        return len(self._entries)
