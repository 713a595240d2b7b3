"""What an operator configures for the ``snmp`` probe: its settings and each target's params.

Kept apart from the probe so that the daemon's config validation can use the same strict
parsing (unknown keys are errors, numbers are checked) without touching sockets or engines.
Secrets in params are read here and never echoed back in an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from govnet.errors import ConfigError
from govnet.probes.snmp_engine import UsmCredentials
from govnet.probes.snmp_plan import COLUMNS


@dataclass(frozen=True, slots=True)
class SnmpSettings:
    """The probe's settings (per segment in the daemon config); unknown keys are errors."""

    timeout: float = 1.0
    """Seconds to wait for each attempt."""
    retries: int = 1
    """Resends after the first attempt: a dead unit costs timeout × (retries + 1)."""
    max_in_flight: int = 256
    """Requests awaiting an answer at once, over all v2c targets."""
    max_varbinds: int = 40
    """Varbinds per GET PDU; a plan needing more is split (halved further on tooBig)."""
    max_repetitions: int = 25
    """Rows per GETBULK during discovery."""
    columns: tuple[str, ...] = tuple(COLUMNS)
    """InterfaceStatus fields to poll; ifOperStatus is always polled."""
    rediscover_seconds: float = 3600.0
    """Re-learn each unit's interfaces this often even without a reboot (0: never)."""

    def __post_init__(self) -> None:
        columns = tuple(dict.fromkeys(("oper_status", *self.columns)))
        object.__setattr__(self, "columns", columns)  # frozen: normalised once, here

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> SnmpSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(
                f"snmp probe: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        values = dict(settings)
        try:
            for name in ("timeout", "rediscover_seconds"):
                if name in values:
                    values[name] = float(values[name])
            for name in ("retries", "max_in_flight", "max_varbinds", "max_repetitions"):
                if name in values:
                    values[name] = _whole(values[name])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"snmp probe: {exc}") from exc
        if "columns" in values:
            columns = values["columns"]
            if isinstance(columns, str) or not all(c in COLUMNS for c in columns):
                raise ConfigError(f"snmp probe: columns must be a list of {', '.join(COLUMNS)}")
            values["columns"] = tuple(columns)
        parsed = cls(**values)
        if parsed.timeout <= 0 or parsed.retries < 0 or parsed.rediscover_seconds < 0:
            raise ConfigError("snmp probe: timeout must be > 0, retries and rediscover_seconds >= 0")
        if min(parsed.max_in_flight, parsed.max_varbinds, parsed.max_repetitions) < 1:
            raise ConfigError("snmp probe: max_in_flight, max_varbinds and max_repetitions must be >= 1")
        return parsed


def _whole(value: Any) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


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
