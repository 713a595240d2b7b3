"""The ``snmp`` kind: device polls on the management network; interfaces, uptime and reboots.

Its part is what the last poll of each device found, the last *known* uptime per device and
the reboots counted. Reboots: a device rebooted when its sysUpTime is lower than the last known
uptime plus the time since. The last known uptime is kept across failed polls: a rebooting
device usually misses a poll or two, and comparing only with the previous poll (which failed, no
uptime) would miss the reboot. A coldStart trap counts as a reboot by the same rule (`restarted`),
and updates the last known uptime, so the poll after it does not count the same reboot twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from govnet.probes.base import Probe, ProbeResult, Target
from govnet.probes.kind import Event, Kind, Recorded, SnapshotView, SuccessSamples, UnitStates
from govnet.probes.snmp.collector import SnmpCollector
from govnet.probes.snmp.part import SnmpPart, SnmpSeen
from govnet.probes.snmp.probe import SnmpProbe
from govnet.probes.snmp.settings import SnmpSettings

TIMETICKS_WRAP = 2**32 / 100
"""sysUpTime (TimeTicks, 1/100 s) wraps after 497 days: not a reboot."""
REBOOT_TOLERANCE = 5.0
"""Seconds of clock and network jitter before a lower uptime counts as a reboot."""


def rebooted(last_uptime: float, last_at: float, uptime: float, at: float) -> bool:
    """True when ``uptime`` seen at ``at`` is too low for a device that was up ``last_uptime`` at ``last_at``.

    >>> rebooted(1000.0, 0.0, 1030.0, 30.0)   # it kept running
    False
    >>> rebooted(1000.0, 0.0, 12.0, 60.0)     # up for 12 s only: it restarted
    True
    >>> rebooted(TIMETICKS_WRAP - 10, 0.0, 20.0, 30.0)   # the counter wrapped
    False
    """
    expected = last_uptime + (at - last_at)
    if uptime >= expected - REBOOT_TOLERANCE:
        return False
    return not (expected >= TIMETICKS_WRAP and abs(uptime - expected % TIMETICKS_WRAP) <= REBOOT_TOLERANCE)


def _note(
    uptimes: dict[str, tuple[float, float]],
    reboots: dict[str, int],
    unit: str,
    uptime: float,
    at: float,
    via: str,
) -> Event | None:
    """Remember a device's uptime; count a reboot when it went back (the event to log, if so).

    ``at`` is on the monotonic clock: a wall clock stepped forward by an hour would otherwise
    make every device look rebooted (its uptime did not grow by that hour).
    """
    last = uptimes.get(unit)
    uptimes[unit] = (uptime, at)
    if last is not None and not rebooted(last[0], last[1], uptime, at):
        return None
    if last is None and via != "coldStart":
        return None  # the first poll of a device: nothing to compare with
    reboots[unit] = reboots.get(unit, 0) + 1
    return {"kind": "reboot", "unit": unit, "uptime": round(uptime), "via": via}


def restarted(part: SnmpPart, unit: str, uptime: float, at: float, via: str) -> Recorded[SnmpPart]:
    """A restart trap (``via`` coldStart / warmStart) with its sysUpTime, seen at ``at`` (monotonic)."""
    uptimes, reboots = dict(part.uptimes), dict(part.reboots)
    event = _note(uptimes, reboots, unit, uptime, at, via)
    new = SnmpPart(part.seen, MappingProxyType(uptimes), MappingProxyType(reboots))
    return Recorded(new, (event,) if event else ())


def record(
    part: SnmpPart, segment: str, results: Sequence[ProbeResult], units: UnitStates
) -> Recorded[SnmpPart]:
    seen, uptimes, reboots = dict(part.seen), dict(part.uptimes), dict(part.reboots)
    events = []
    for result in results:
        unit = result.target.unit
        if result.uptime_seconds is not None:
            event = _note(uptimes, reboots, unit, result.uptime_seconds, result.clock, "sysUpTime")
            if event is not None:
                events.append(event)
        seen[unit] = SnmpSeen(result.success, result.uptime_seconds, result.interfaces)
    new = SnmpPart(MappingProxyType(seen), MappingProxyType(uptimes), MappingProxyType(reboots))
    return Recorded(new, tuple(events))


def prepare(part: SnmpPart, targets: Sequence[Target]) -> SnmpPart:
    """Every polled device has a reboot counter from the start, at 0 until one is seen (an absent
    series makes ``increase()`` miss the first reboot)."""
    reboots = {t.unit: 0 for t in targets} | dict(part.reboots)
    return SnmpPart(part.seen, part.uptimes, MappingProxyType(reboots))


def prune(part: SnmpPart, keep: set[str]) -> SnmpPart:
    return SnmpPart(
        MappingProxyType({k: v for k, v in part.seen.items() if k in keep}),
        MappingProxyType({k: v for k, v in part.uptimes.items() if k in keep}),
        MappingProxyType({k: v for k, v in part.reboots.items() if k in keep}),
    )


def success(part: SnmpPart, scope: SnapshotView) -> SuccessSamples:
    """A device's agent answered, per segment it serves."""
    for unit, seen in part.seen.items():
        for segment in scope.segments_of(unit):
            yield segment, unit, seen.success


def make(settings: SnmpSettings) -> Probe:
    return SnmpProbe(settings)


KIND: Kind[SnmpSettings, SnmpPart] = Kind(
    name="snmp",
    settings=SnmpSettings,
    interval=60.0,
    make=make,
    targets="devices",
    empty=SnmpPart(),
    record=record,
    collector=SnmpCollector,
    success=success,
    prepare=prepare,
    prune=prune,
    batch=512,  # a task per target: 10,000 at once cost ~40 MB the process keeps after the cycle
)
