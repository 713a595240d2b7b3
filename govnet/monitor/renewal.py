"""When to give the SNMP probe a fresh engine: a backstop for SNMPv3 polls of devices that
answer ping but keep timing out.

The ``snmp`` probe keeps one pysnmp engine for all SNMPv3 targets, and that engine caches each
agent's snmpEngineID. An agent that comes back with another engine ID (a replaced device; the
lab's snmpd after every restart) answers with a usmStatsUnknownEngineIDs report, which the
engine drops. The fix is per agent and lives in the probe: a v3 timeout makes the engine forget
that agent's engine ID (`govnet.probes.snmp.engine.EngineClient.forget_agent`), and a
coldStart / warmStart trap does the same before the device is re-polled; the next request
discovers the agent afresh and no other device is touched.

What is left here is the backstop for an engine that stays stuck anyway (a pysnmp release whose
private cache the probe cannot reach): three failed cycles of one device that answers ping
renew the whole probe, which costs one interface rediscovery per device at the next cycle, so it
happens at most once per ``gap`` seconds. ``restarted`` forces a renewal (kept for callers that
know better; the trap handler no longer needs it).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from govnet.probes.base import ProbeResult

ENGINE_TIMEOUT = "timeout: no answer from"
"""How the snmp probe words a request that got no answer (not the cycle's deadline)."""
STUCK_AFTER = 3
"""Consecutive failed SNMP cycles of a device that answers ping before the engine is suspect."""


class SnmpRenewal:
    def __init__(self, gap: float = 300.0) -> None:
        self.gap = gap
        self.pending = False
        self.failing: Counter[str] = Counter()
        self._last = -gap

    def restarted(self) -> None:
        """A device said it restarted: renew before the next cycle."""
        self.pending = True

    def observe(self, results: list[ProbeResult], answers_ping: Callable[[str], bool]) -> None:
        """Count SNMPv3 devices whose polls time out while ping works; renew when one is stuck.

        Only the engine's symptom counts (an SNMPv3 request timing out): not v2c (no engine), not
        a cycle that ran out of time before reaching a device (discovery of thousands of them).
        """
        for result in results:
            unit = result.target.unit
            stuck = (
                not result.success
                and result.target.params.get("version") == "v3"
                and result.detail.startswith(ENGINE_TIMEOUT)
                and answers_ping(unit)
            )
            if stuck:
                self.failing[unit] += 1
            else:
                self.failing.pop(unit, None)
        stuck = any(n >= STUCK_AFTER for n in self.failing.values())
        if stuck and time.monotonic() - self._last >= self.gap:
            self.pending = True

    def take(self) -> bool:
        """True once per request: the caller renews the probe now."""
        if not self.pending:
            return False
        self.pending = False
        self._last = time.monotonic()
        self.failing.clear()
        return True
