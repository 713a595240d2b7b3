"""The health probe's settings, strictly validated (unknown keys and bad numbers are errors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govnet.errors import ConfigError


class HealthSettings(BaseModel):
    """Per segment in the daemon config, under the ``health`` probe."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    timeout: float = Field(1.0, gt=0)
    """Seconds to wait for each attempt."""
    retries: int = Field(1, ge=0)
    max_in_flight: int = Field(256, ge=1)
    max_varbinds: int = Field(40, ge=1)
    """Varbinds per GET; the ~30 cells of a device's uplinks fit in one."""
    max_repetitions: int = Field(20, ge=1, le=200)
    """Rows per column per GETBULK at discovery."""
    rediscover_seconds: float = Field(21600.0, ge=0)
    """Walk interface and entity tables again this often (also after a reboot or a trap)."""
    walk_seconds: float = Field(20.0, gt=0)
    """Upper bound on one unit's discovery walk."""
    access_ports: bool = False
    """Also poll every access port (errors, optics): off by default to bound cardinality."""

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> HealthSettings:
        """ConfigError with one line per problem (field and reason, never the input)."""
        try:
            return cls.model_validate(dict(settings))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"health probe: {problems}") from None
