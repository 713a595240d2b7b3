"""The health probe's settings, strictly validated (unknown keys and bad numbers are errors)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from govnet.probes.common import ProbeSettings, bounded


class HealthSettings(ProbeSettings):
    """``probes.health`` in the daemon config (``interval`` and ``enabled`` added by the daemon)."""

    kind: ClassVar[str] = "health"
    timeout: Annotated[float, bounded(0.001, 3600)] = 1.0
    """Seconds to wait for each attempt."""
    retries: Annotated[int, bounded(0, 100, integer=True)] = 1
    max_in_flight: Annotated[int, bounded(1, 1_000_000, integer=True)] = 256
    max_varbinds: Annotated[int, bounded(1, 1000, integer=True)] = 40
    """Varbinds per GET; the ~30 cells of a device's uplinks fit in one."""
    max_repetitions: Annotated[int, bounded(1, 200, integer=True)] = 20
    """Rows per column per GETBULK at discovery."""
    rediscover_seconds: Annotated[float, bounded(0, 31 * 86400)] = 21600.0
    """Walk interface and entity tables again this often (also after a reboot or a trap; 0: never)."""
    walk_seconds: Annotated[float, bounded(0.001, 3600)] = 20.0
    """Upper bound on one unit's discovery walk."""
    access_ports: bool = False
    """Also poll every access port (errors, optics): off by default to bound cardinality."""
