"""What a cycle's results (and a trap) change in the daemon's view: pure bookkeeping, no I/O.

Kept apart from the daemon (which schedules, probes and talks to the world) so the rules are
plain functions: ICMP results feed the unit-state tracker; SNMP results replace the device's
interfaces and feed reboot detection; TCP and isolation results are stored per check, and an
isolation check that starts failing is an event.

Reboots. A device rebooted when its sysUpTime is lower than the last known uptime plus the time
since. The last *known* uptime is kept across failed polls: a rebooting device usually misses a
poll or two, and comparing only with the previous poll (which failed, no uptime) would miss the
reboot. A coldStart trap counts as a reboot by the same rule (its sysUpTime varbind, or 0), and
updates the last known uptime, so the poll after it does not count the same reboot twice.
"""

from __future__ import annotations

from govnet.metrics.view import SnmpSeen
from govnet.monitor.state import DaemonView, Transition
from govnet.probes.base import ProbeResult
from govnet.probes.isolation import checked

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


def note_uptime(view: DaemonView, unit: str, uptime: float, at: float, via: str) -> bool:
    """Remember a device's uptime; count (and tell) a reboot when it went back. True if it did.

    ``at`` is on the monotonic clock: a wall clock stepped forward by an hour would otherwise
    make every device look rebooted (its uptime did not grow by that hour).
    """
    last = view.uptimes.get(unit)
    view.uptimes[unit] = (uptime, at)
    if last is not None and not rebooted(last[0], last[1], uptime, at):
        return False
    if last is None and via != "coldStart":
        return False  # the first poll of a device: nothing to compare with
    view.reboots[unit] += 1
    view.event("reboot", unit=unit, uptime=round(uptime), via=via)
    return True


def unmeasured(result: ProbeResult) -> bool:
    """An ICMP result for a target the cycle never sent an echo to (its deadline came first: a
    starved daemon, a cycle cut short). Not evidence that the unit is down: counting it as a
    failure turned a daemon that fell behind into hundreds of false "down" (seen in the soak).
    A send that failed (network unreachable) is measured: it has a loss ratio."""
    return not result.success and result.sent == 0 and result.loss_ratio is None


def record(view: DaemonView, kind: str, segment: str, results: list[ProbeResult]) -> list[Transition]:
    """Apply one cycle's results to the view; the state transitions it caused (ICMP only)."""
    if kind == "icmp":
        tracker = view.tracker
        for result in results:
            if unmeasured(result):
                continue  # no echo went out: no verdict, the unit keeps its state
            entry = tracker.get(result.target.unit, segment)
            if entry is not None:
                entry.address, entry.answered = result.target.address, result.success
                entry.rtt, entry.loss = result.rtt_seconds, result.loss_ratio
            tracker.observe(result.target.unit, segment, result.success, result.detail, result.at)
        return tracker.resolve()
    if kind == "snmp":
        for result in results:
            unit = result.target.unit
            if result.uptime_seconds is not None:
                note_uptime(view, unit, result.uptime_seconds, result.clock, "sysUpTime")
            view.snmp[unit] = SnmpSeen(result.success, result.uptime_seconds, result.interfaces)
    elif kind == "tcp":
        for result in results:
            view.tcp[(result.target.unit, segment, str(result.target.params.get("service", "")))] = result
    elif kind == "isolation":
        for result in results:
            key = (str(result.target.params.get("vantage", "")), result.target.unit, result.target.segment)
            old = view.isolation.get(key)
            if (old is None or old.success) and not result.success:
                view.event(
                    "isolation-breach" if checked(result) else "isolation-unchecked",
                    unit=result.target.unit,
                    segment=result.target.segment,
                    detail=result.detail,
                )
            view.isolation[key] = result
    return []
