"""Settings of the ``icmp`` probe: one strict model, embedded in the daemon's config.

A typo in the daemon's config (``rtae: 500``) must fail at load, naming the field, rather than
silently probing at the default rate. ``echo_interval`` is the probe's own spacing of echoes to
one target; ``interval`` (seconds between cycles) is the scheduler's, added by the config.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from govnet.probes.common import DEFAULT_ALLOWED, Networks, ProbeSettings, bounded
from govnet.probes.icmp.packet import KEY


class IcmpSettings(ProbeSettings):
    """What the daemon's config may set for the icmp probe (unknown keys are errors)."""

    kind: ClassVar[str] = "icmp"
    count: Annotated[int, bounded(1, 1000, integer=True)] = 3
    """Echo requests per target per cycle."""
    echo_interval: Annotated[float, bounded(0, 3600)] = 0.2
    """Minimum seconds between two echoes to the same target."""
    rate: Annotated[float, bounded(0, 10_000_000)] = 2000.0
    """Maximum packets per second over all targets (0: as fast as the kernel takes them)."""
    timeout: Annotated[float, bounded(0.001, 3600)] = 1.0
    """Seconds an echo may take to be answered."""
    payload: Annotated[int, bounded(KEY, 65_499, integer=True)] = 56
    """ICMP data bytes per echo (at least 8: the cycle token and packet index)."""
    ttl: Annotated[int, bounded(1, 255, integer=True)] = 64
    allowed_networks: Networks = DEFAULT_ALLOWED
    """The only networks the probe sends to; the daemon passes its configured list."""
    socket: Literal["auto", "raw", "dgram"] = "auto"
    """Which socket: ``raw`` (needs CAP_NET_RAW), ``dgram`` (needs ping_group_range) or ``auto`` (raw, else dgram)."""
