"""What an operator configures for the ``snmp`` probe: its settings and each target's params.

Kept apart from the probe so that the daemon's config validation can use the same strict
parsing (unknown keys are errors, numbers are checked) without touching sockets or engines.
Secrets in params are read here and never echoed back in an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, cast

from pydantic import AfterValidator

from govnet.probes.common import ProbeSettings, bounded
from govnet.probes.snmp.engine import UsmCredentials
from govnet.probes.snmp.plan import COLUMNS

Column = Literal["oper_status", "admin_status", "in_octets", "out_octets", "speed_mbps", "alias"]


def _columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    """ifOperStatus is always polled, first."""
    return tuple(dict.fromkeys(("oper_status", *columns)))


class SnmpSettings(ProbeSettings):
    """The probe's settings (per segment in the daemon config); unknown keys are errors."""

    kind: ClassVar[str] = "snmp"
    timeout: Annotated[float, bounded(0.001, 3600)] = 1.0
    """Seconds to wait for each attempt."""
    retries: Annotated[int, bounded(0, 100, integer=True)] = 1
    """Resends after the first attempt: a dead unit costs timeout × (retries + 1)."""
    max_in_flight: Annotated[int, bounded(1, 1_000_000, integer=True)] = 256
    """Requests awaiting an answer at once, over all v2c targets."""
    max_varbinds: Annotated[int, bounded(1, 1000, integer=True)] = 40
    """Varbinds per GET PDU; a plan needing more is split (halved further on tooBig)."""
    max_repetitions: Annotated[int, bounded(1, 1000, integer=True)] = 25
    """Rows per GETBULK during discovery."""
    columns: Annotated[tuple[Column, ...], AfterValidator(_columns)] = cast(
        tuple[Column, ...], tuple(COLUMNS)
    )
    """InterfaceStatus fields to poll; ifOperStatus is always polled."""
    rediscover_seconds: Annotated[float, bounded(0, 31 * 86400)] = 3600.0
    """Re-learn each unit's interfaces this often even without a reboot (0: never)."""


@dataclass(frozen=True, slots=True)
class Access:
    """How to reach one unit: a v2c community or a v3 user, and the interfaces to watch."""

    community: bytes | None
    credentials: UsmCredentials | None
    interfaces: tuple[str, ...]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Access:
        """ValueError (naming no secret) when ``params`` cannot be used."""
        wanted = params.get("interfaces") or ()
        if not isinstance(wanted, list | tuple) or not all(isinstance(n, str) for n in wanted):
            raise ValueError("'interfaces' must be a list of interface names")
        version = str(params.get("version", "v2c")).lower()
        if version in ("v2c", "2c", "2"):
            community = params.get("community")
            if not isinstance(community, str) or not community:
                raise ValueError("v2c needs a non-empty 'community'")
            return cls(community.encode(), None, tuple(wanted))
        if version in ("v3", "3"):
            return cls(None, UsmCredentials.from_params(params), tuple(wanted))
        raise ValueError(f"unsupported SNMP version {version!r} (v2c or v3)")
