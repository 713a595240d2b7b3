"""The ``snmp`` kind's part of the snapshot: immutable, replaced by each poll (and restart trap)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from govnet.probes.base import InterfaceStatus

EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SnmpSeen:
    """What the last SNMP poll of a device found (what the exports need of its ProbeResult)."""

    success: bool
    uptime_seconds: float | None
    interfaces: tuple[InterfaceStatus, ...]


@dataclass(frozen=True)
class SnmpPart:
    seen: Mapping[str, SnmpSeen] = field(default_factory=lambda: EMPTY)
    uptimes: Mapping[str, tuple[float, float]] = field(default_factory=lambda: EMPTY)
    """Last known (sysUpTime, monotonic time it was true) per unit: reboot detection across outages."""
    reboots: Mapping[str, int] = field(default_factory=lambda: EMPTY)
