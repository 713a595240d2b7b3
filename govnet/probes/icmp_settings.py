"""Settings of the ``icmp`` probe, parsed strictly: an unknown key or a bad value is a ``ConfigError``.

A typo in the daemon's config (``rtae: 500``) must fail at load, naming the field, rather than
silently probing at the default rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from govnet.errors import ConfigError, Problem
from govnet.probes.icmp_packet import KEY

_LIMITS: dict[str, tuple[type, float, float]] = {
    "count": (int, 1, 1000),
    "interval": (float, 0, 3600),
    "rate": (float, 0, 10_000_000),
    "timeout": (float, 0.001, 3600),
    "payload": (int, KEY, 65_499),
    "ttl": (int, 1, 255),
}


@dataclass(frozen=True, slots=True)
class IcmpSettings:
    """What the daemon's config may set for the icmp probe (unknown keys are errors)."""

    count: int = 3
    """Echo requests per target per cycle."""
    interval: float = 0.2
    """Minimum seconds between two echoes to the same target."""
    rate: float = 2000.0
    """Maximum packets per second over all targets (0: as fast as the kernel takes them)."""
    timeout: float = 1.0
    """Seconds an echo may take to be answered."""
    payload: int = 56
    """ICMP data bytes per echo (at least 8: the cycle token and packet index)."""
    ttl: int = 64
    allowed_networks: tuple[IPv4Network, ...] = (IPv4Network("127.0.0.0/8"),)
    """The only networks the probe sends to; the daemon passes its configured list."""
    socket: str = "auto"
    """Which socket: ``raw`` (needs CAP_NET_RAW), ``dgram`` (needs ping_group_range) or ``auto`` (raw, else dgram)."""

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> IcmpSettings:
        unknown = sorted(set(settings) - {*_LIMITS, "allowed_networks", "socket"})
        if unknown:
            raise ConfigError(Problem(f"unknown icmp setting(s): {', '.join(map(str, unknown))}"))
        values: dict[str, Any] = {}
        for name, (kind, low, high) in _LIMITS.items():
            if name not in settings:
                continue
            value = settings[name]
            number = isinstance(value, int | float) if kind is float else isinstance(value, int)
            if isinstance(value, bool) or not number or not low <= value <= high:
                what = "a number" if kind is float else "an integer"
                raise ConfigError(
                    Problem(f"must be {what} from {low:g} to {high:g}, not {value!r}", field=name)
                )
            values[name] = kind(value)
        if "socket" in settings:
            if settings["socket"] not in ("auto", "raw", "dgram"):
                raise ConfigError(
                    Problem(f"must be auto, raw or dgram, not {settings['socket']!r}", field="socket")
                )
            values["socket"] = settings["socket"]
        if "allowed_networks" in settings:
            networks = settings["allowed_networks"]
            if isinstance(networks, str) or not isinstance(networks, list | tuple):
                raise ConfigError(Problem("must be a list of IPv4 networks", field="allowed_networks"))
            try:
                values["allowed_networks"] = tuple(IPv4Network(str(net)) for net in networks)
            except ValueError as exc:
                raise ConfigError(Problem(str(exc), field="allowed_networks")) from None
        return cls(**values)
