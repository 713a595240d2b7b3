"""The shape every probe shares.

A probe takes a batch of targets (ICMP shares one socket across all of them, SNMP one
engine) and returns exactly one ``ProbeResult`` per target before its deadline. A timeout, a
refused connection or an unreachable host is a result with ``success=False`` and a ``detail``;
an exception escaping a probe is a bug in govnet.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to probe: a unit's address on a segment (or a service port of it)."""

    unit: str
    segment: str
    address: str
    port: int | None = None
    source: str | None = None
    """Source address to send from (e.g. a party-VRF address for isolation probes)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Probe-specific settings: SNMP credentials (resolved), monitored interfaces, …"""

    @property
    def key(self) -> tuple[str, str, str, int | None]:
        return (self.unit, self.segment, self.address, self.port)


@dataclass(frozen=True, slots=True)
class InterfaceStatus:
    """One monitored interface as read over SNMP (IF-MIB)."""

    index: int
    name: str
    oper_status: int
    """ifOperStatus: 1 up, 2 down, 3 testing, 4 unknown, 5 dormant, 6 notPresent, 7 lowerLayerDown."""
    admin_status: int | None = None
    in_octets: int | None = None
    """ifHCInOctets when the agent has it, else ifInOctets."""
    out_octets: int | None = None
    speed_mbps: int | None = None
    alias: str = ""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe saw of one target in one cycle."""

    probe: str
    target: Target
    success: bool
    detail: str = ""
    rtt_seconds: float | None = None
    """Mean round-trip time of the answers received (None when nothing answered)."""
    loss_ratio: float | None = None
    sent: int = 0
    received: int = 0
    uptime_seconds: float | None = None
    """sysUpTime, for reboot detection (SNMP)."""
    interfaces: tuple[InterfaceStatus, ...] = ()
    values: Mapping[str, float] = field(default_factory=dict)
    at: float = field(default_factory=time.time)
    clock: float = field(default_factory=time.monotonic)
    """When the result was made on the monotonic clock: for intervals (reboot detection), which
    a step of the wall clock (NTP, an operator) must not distort."""


class Probe(Protocol):
    """What a probe is: run a batch of targets, close. Each kind (`govnet.probes.kind`) makes its own."""

    name: str

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        """Probe every target; return one result per target, in the same order, within ``timeout`` s."""
        ...

    async def close(self) -> None:
        """Release sockets, engines, tasks."""
        ...
