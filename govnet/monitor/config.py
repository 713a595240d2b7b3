"""The daemon's YAML config, loaded as strictly as the inventory (``FILE:LINE`` errors).

Paths in the file are relative to the file. Probe blocks hold ``interval`` and ``timeout``
(the scheduler's business) and the probe's own settings, which the probe's factory validates;
its ``ConfigError`` is mapped back to the line of the offending key.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from govnet.errors import ConfigError, Problem, UsageError
from govnet.inventory.models import SECRET_REF_RE, Network, text_only
from govnet.inventory.problems import from_pydantic
from govnet.inventory.select import Shard
from govnet.inventory.yamlsrc import MDict, load_yaml, locate, read_text

ProbeName = Literal["icmp", "snmp", "tcp", "isolation"]
DEFAULT_INTERVALS = {"icmp": 30.0, "snmp": 60.0, "tcp": 60.0, "isolation": 60.0}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    try:
        IPv4Address(host)
        if not 0 < int(port) < 65536:
            raise ValueError
    except ValueError:
        raise ValueError("must be ADDRESS:PORT, e.g. 127.0.0.1:9430") from None
    return value


class ProbeBlock(Strict):
    model_config = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)
    interval: Annotated[float, Field(ge=0.5, le=86400)] | None = None
    enabled: bool = True

    @property
    def settings(self) -> dict[str, Any]:
        """The probe's own settings (everything but interval and enabled), e.g. its ``timeout``."""
        return dict(self.model_extra or {})


class Traps(Strict):
    listen: str
    communities: list[str] = Field(min_length=1)
    rate_limit: Annotated[int, Field(ge=1)] = 200

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return _host_port(value)

    @field_validator("communities")
    @classmethod
    def _refs(cls, values: list[str]) -> list[str]:
        for value in values:
            if not SECRET_REF_RE.match(value):
                raise ValueError("plaintext secret refused; write a reference: env:VARIABLE or file:PATH")
        return values


class PathSettings(Strict):
    enabled: bool = True
    max_hops: Annotated[int, Field(ge=1, le=32)] = 8
    timeout: Annotated[float, Field(gt=0, le=10)] = 0.5


class DaemonConfig(Strict):
    inventory: Path
    allowed_networks: list[Network] = Field(min_length=1)
    listen: str = "127.0.0.1:9430"
    state: Path = Path("/var/lib/govnet")
    shard: str | None = None
    down_after: Annotated[int, Field(ge=1, le=100)] = 2
    probes: dict[ProbeName, ProbeBlock] = {}
    segments: dict[Literal["intranet", "party", "extranet"], dict[ProbeName, ProbeBlock]] = {}
    traps: Traps | None = None
    path: PathSettings = PathSettings()
    known_hosts: Path | None = None

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return _host_port(value)

    @field_validator("shard")
    @classmethod
    def _shard(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Shard.parse(value)
            except UsageError as exc:  # reported as a config problem here
                raise ValueError(str(exc)) from None
        return value

    @property
    def shard_spec(self) -> Shard | None:
        return Shard.parse(self.shard) if self.shard else None

    def interval(self, probe: str, segment: str | None = None) -> float:
        block = self.block(probe, segment)
        return block.interval if block and block.interval else DEFAULT_INTERVALS[probe]

    def deadline(self, probe: str, segment: str | None = None) -> float:
        """A cycle must finish well before the next one is due."""
        return self.interval(probe, segment) * 0.9

    def block(self, probe: str, segment: str | None = None) -> ProbeBlock | None:
        if segment is not None and probe in self.segments.get(segment, {}):  # type: ignore[call-overload]
            return self.segments[segment][probe]  # type: ignore[index]
        return self.probes.get(probe)  # type: ignore[call-overload,no-any-return]

    def enabled(self, probe: str) -> bool:
        block = self.probes.get(probe)  # type: ignore[call-overload]
        return block is None or bool(block.enabled)

    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host, int(port)

    def allowed(self, address: str) -> bool:
        try:
            ip = IPv4Address(text_only(address))
        except ValueError:
            return False
        return any(ip in net for net in self.allowed_networks)


def load_config(path: Path) -> DaemonConfig:
    """Read and validate a daemon config; relative paths become relative to the file."""
    shown = str(path)
    raw = load_yaml(read_text(path, shown), shown)
    try:
        config = DaemonConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(from_pydantic(exc, raw, DaemonConfig)) from None
    base = path.parent
    updates: dict[str, Any] = {"inventory": base / config.inventory, "state": base / config.state}
    if config.known_hosts is not None:
        updates["known_hosts"] = base / config.known_hosts
    return config.model_copy(update=updates)


def problem_at(raw: MDict, where: tuple[str | int, ...], message: str) -> Problem:
    """A problem located at ``where`` in a marked config tree (for checks after validation)."""
    mark = locate(raw, where)
    return Problem(
        message, mark.file if mark else None, mark.line if mark else None, ".".join(map(str, where))
    )


__all__ = ["DaemonConfig", "IPv4Network", "load_config"]
