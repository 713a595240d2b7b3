"""The time window of a report: ``--since 30d``, ``--end``, and the step of its range queries."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from govnet.errors import UsageError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION_RE = re.compile(r"^([0-9]+)([smhdw])$")
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
POINTS = 2500
"""A default step keeps each series at most this many points (a 30-day window: every 30 min)."""


def duration(text: str, option: str = "--since") -> float:
    """Seconds in ``30d``, ``12h``, ``90m``, ``2w``, ``45s``.

    >>> duration("30d"), duration("90m")
    (2592000.0, 5400.0)
    """
    match = DURATION_RE.match(text.strip())
    if not match or int(match[1]) == 0:
        raise UsageError(f"{option} '{text}': expected a positive duration such as 30d, 12h, 90m, 2w")
    return float(int(match[1]) * UNITS[match[2]])


def instant(text: str | None, option: str = "--end") -> float:
    """``--end``: unix seconds or ISO 8601 (UTC when no offset); ``None`` is now.

    >>> instant("2026-11-01T00:00:00Z")
    1793491200.0
    """
    if text is None:
        return time.time()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} '{text}': expected unix seconds or a time like 2026-11-01T08:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    step: float

    @classmethod
    def of(cls, since: str, end: str | None = None, step: str | None = None) -> Window:
        """The window ``since`` long ending at ``end``; points on multiples of the step."""
        length = duration(since)
        stop = instant(end)
        every = duration(step, "--step") if step else default_step(length)
        if every > length:
            raise UsageError(f"--step {step}: longer than the --since window ({since})")
        stop = math.floor(stop / every) * every
        return cls(stop - length, stop, every)

    @property
    def last(self) -> float:
        """The last point: each point stands for the step starting at it."""
        return self.end - self.step

    @property
    def length(self) -> float:
        return self.end - self.start


def default_step(length: float) -> float:
    """The smallest round step giving at most `POINTS` points.

    >>> default_step(30 * 86400), default_step(600)
    (1800.0, 1.0)
    """
    for step in STEPS:
        if length / step <= POINTS:
            return float(step)
    return float(STEPS[-1])


def utc(moment: float) -> str:
    """``2026-11-01 08:00:00Z``.

    >>> utc(1793491200)
    '2026-11-01 00:00:00Z'
    """
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def local(moment: float, zone: str = "UTC") -> str:
    """A report's time in the site's zone (the inventory's ``site.timezone``), the zone shown:
    the people reading a report at the city office think in Beijing time, and a time without its
    zone is the one that gets misread.

    >>> local(1793491200, "Asia/Shanghai"), local(1793491200)
    ('2026-11-01 08:00:00 CST', '2026-11-01 00:00:00 UTC')
    """
    return datetime.fromtimestamp(moment, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def iso(moment: float, zone: str = "UTC") -> str:
    """The same time for a machine (CSV): ISO 8601 with the zone's offset.

    >>> iso(1793491200, "Asia/Shanghai")
    '2026-11-01T08:00:00+08:00'
    """
    return datetime.fromtimestamp(moment, ZoneInfo(zone)).isoformat(timespec="seconds")


def span(seconds: float) -> str:
    """A human duration.

    >>> span(59), span(3720), span(90000)
    ('59s', '1h 2m', '1d 1h')
    """
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"
