"""What a trap does to the daemon: count it, take a unit down at once when its uplink went down,
note a restart, and poll the device's SNMP right away rather than at the next cycle.

The receiver (`govnet.probes.traps`) decodes and rate-limits on the event loop and calls
`TrapHandler.on_trap` once per notification; nothing here blocks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from govnet.monitor.record import keep, record
from govnet.monitor.setup import Setup
from govnet.monitor.state import DaemonView, Transition
from govnet.probes.health.probe import HealthProbe
from govnet.probes.snmp.kind import restarted
from govnet.probes.snmp.probe import SnmpProbe

RESTARTS = ("coldStart", "warmStart")
REPOLL = ("linkDown", "linkUp", *RESTARTS)


class TrapHost(Protocol):
    """What a trap needs of the daemon (`govnet.monitor.daemon.Daemon`), read at each trap: a
    reload swaps the setup and the view."""

    @property
    def setup(self) -> Setup: ...

    @property
    def view(self) -> DaemonView: ...

    def transitions(self, changes: list[Transition]) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]: ...


class TrapHandler:
    def __init__(self, daemon: TrapHost) -> None:
        self.daemon = daemon

    def on_trap(self, event: Any) -> None:
        """linkDown/linkUp/coldStart change state now, not at the next cycle."""
        daemon = self.daemon
        kind, view = str(event.kind), daemon.view
        view.trapped = view.trapped.received(kind)
        unit = daemon.setup.hosts.get(str(event.source_address))
        view.event("trap", trap=kind, unit=unit or str(event.source_address), ifindex=event.if_index)
        if unit is None:
            view.touch()
            return
        if kind in RESTARTS and "snmp" in view.kinds:
            keep(
                view, "snmp", restarted(view.part("snmp"), unit, event.uptime or 0.0, time.monotonic(), kind)
            )
            self._forget_engine(unit)
        if kind == "linkDown" and self._is_uplink(unit, event.if_index):
            view.tracker.force_down(unit, f"linkDown trap for its uplink (ifIndex {event.if_index})")
            daemon.transitions(view.tracker.resolve())
        if kind in REPOLL:
            self._flag_health(unit, kind)
            daemon.spawn(self.repoll(unit, kind))
        view.touch()

    def _flag_health(self, unit: str, why: str) -> None:
        """A link or restart may have changed the device's ports or modules: the health probe walks
        its tables again at its next cycle (its plan of cells to GET may be stale)."""
        setup = self.daemon.setup
        probe = setup.probes.get(("health", "management"))
        if isinstance(probe, HealthProbe):
            for target in setup.targets("health", "management").targets:
                if target.unit == unit:
                    probe.flag(unit, target.address, f"{why} trap")

    def _is_uplink(self, unit: str, if_index: int | None) -> bool:
        daemon = self.daemon
        view = daemon.view
        element = daemon.setup.site.element(unit)
        result = view.part("snmp").seen.get(unit) if "snmp" in view.kinds else None
        if element is None or result is None or if_index is None:
            return False
        return any(i.index == if_index and i.name == element.uplink for i in result.interfaces)

    def _forget_engine(self, unit: str) -> None:
        """A restarted agent may come back with another SNMPv3 engine ID: the shared probe
        rediscovers it at the next request instead of a whole new probe (and engine) that would
        rediscover every device (see `govnet.monitor.renewal` for the backstop)."""
        setup = self.daemon.setup
        probe = setup.probes.get(("snmp", "management"))
        if isinstance(probe, SnmpProbe):
            for target in setup.targets("snmp", "management").targets:
                if target.unit == unit:
                    probe.forget_agent(target.address, target.port or 161)

    async def repoll(self, unit: str, why: str) -> None:
        """Poll one device's SNMP right away (interface states after a trap), with the job's probe."""
        setup, view = self.daemon.setup, self.daemon.view
        if ("snmp", "management") not in setup.probes or unit not in setup.owned:
            return
        targets = [t for t in setup.targets("snmp", "management").targets if t.unit == unit]
        if not targets:
            return
        results = await setup.probe("snmp", "management").run(targets, 5.0)
        record(view, "snmp", "management", results)
        view.trapped = view.trapped.polled()
        interfaces = {i.name: i.oper_status for r in results for i in r.interfaces}
        view.event("trap-poll", unit=unit, trap=why, interfaces=interfaces)
        view.touch()
