"""The daemon's YAML config, loaded as strictly as the inventory (``FILE:LINE`` errors).

Paths in the file are relative to the file. Probe blocks hold ``interval`` (seconds between
cycles: the scheduler's business), ``enabled``, and the probe's own settings, which the probe's
factory validates; its ``ConfigError`` is mapped back to the line of the offending key. The icmp
probe's own ``interval`` (seconds between two echoes to one target) is written ``echo_interval``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from govnet.errors import ConfigError, GovnetError, Problem, UsageError
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


def _network(value: Any) -> Any:
    """Say *why* a network is invalid (``10.0.0.1/8 has host bits set``), not only that it is."""
    if isinstance(value, str):
        try:
            IPv4Network(value)
        except ValueError as exc:
            raise ValueError(f"{exc}; write a network, e.g. 198.18.0.0/15") from None
    return value


AllowedNetwork = Annotated[Network, BeforeValidator(_network)]


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
    spacing: Annotated[float, Field(ge=0, le=1)] = 0.01
    """Seconds between successive TTLs: routers rate-limit the ICMP errors a trace relies on."""
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4


class Compliance(Strict):
    """The scheduled drift check (``govnet.compliance``): present means on."""

    enabled: bool = True
    interval: Annotated[float, Field(ge=5, le=31 * 86400)] = 86400.0
    """Seconds between checks: daily by default (each one reads every device over SSH)."""
    start_delay: Annotated[float, Field(ge=0, le=86400)] = 60.0
    """Seconds after start (or a reload) before the first check."""
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    """Device sessions at once (threads); a rollout's default is 10."""
    templates: Path
    """The configuration templates the intent is rendered from (``configs/``)."""


class DaemonConfig(Strict):
    inventory: Path
    allowed_networks: list[AllowedNetwork] = Field(min_length=1)
    listen: str = "127.0.0.1:9430"
    state: Path = Path("/var/lib/govnet")
    shard: str | None = None
    down_after: Annotated[int, Field(ge=1, le=100)] = 2
    probes: dict[ProbeName, ProbeBlock] = {}
    segments: dict[Literal["intranet", "party", "extranet"], dict[ProbeName, ProbeBlock]] = {}
    traps: Traps | None = None
    path: PathSettings = PathSettings()
    known_hosts: Path | None = None
    compliance: Compliance | None = None
    web_config_file: Path | None = None
    """The exporter-toolkit web configuration (TLS, basic auth) of /metrics and the status page;
    ``govnet daemon --web.config.file`` overrides it."""
    _source: MDict | None = PrivateAttr(default=None)
    """The marked YAML tree it was read from: where later problems point (``problem``)."""

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

    def problem(self, where: tuple[str | int, ...], message: str) -> Problem:
        """A problem found after loading (a probe's settings, the listen port), at its line."""
        mark = locate(self._source, where) if self._source is not None else None
        return Problem(message, mark.file if mark else None, mark.line if mark else None, _dotted(where))

    def settings_error(
        self, kind: str, segment: str | None, exc: ConfigError, settings: Mapping[str, Any]
    ) -> ConfigError:
        """A probe factory's ``ConfigError``, placed at the line of the offending key of its block.

        The factories know nothing of files. They name a ``field`` (``count``,
        ``vantages.noc.netns``), or else the culprit is found by trial: the one key without
        which the settings parse (``retries: -1`` behind "timeout must be > 0, retries … >= 0").
        """
        block: tuple[str | int, ...] = ("probes", kind)
        if kind == "path":
            block = ("path",)
        elif segment is not None and kind in self.segments.get(segment, {}):  # type: ignore[call-overload]
            block = ("segments", segment, kind)
        spelled = {"interval": "echo_interval"} if kind in ("icmp", "isolation") else {}
        problems = []
        for found in exc.problems:
            where = block
            if found.field:
                first, *rest = found.field.split(".")
                where = (*block, spelled.get(first, first), *rest)
            else:
                culprit = _culprit(kind, settings)
                if culprit is not None:
                    where = (*block, spelled.get(culprit, culprit))
            problems.append(self.problem(where, _PREFIX.sub("", found.message)))
        return ConfigError(problems)

    def allowed(self, address: str) -> bool:
        try:
            ip = IPv4Address(text_only(address))
        except ValueError:
            return False
        return any(ip in net for net in self.allowed_networks)


def load_config(path: Path, shard: Shard | None = None) -> DaemonConfig:
    """Read and validate a daemon config; relative paths become relative to the file.

    ``shard`` (``govnet daemon --shard K/N``) overrides the file's ``shard:``.
    """
    shown = str(path)
    try:
        raw = load_yaml(read_text(path, shown), shown)
    except GovnetError as exc:  # the YAML reader speaks of inventories; this is a config
        raise ConfigError(list(exc.problems)) from None
    try:
        config = DaemonConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([_named_key(p) for p in from_pydantic(exc, raw, DaemonConfig)]) from None
    base = path.parent
    updates: dict[str, Any] = {"inventory": base / config.inventory, "state": base / config.state}
    if shard is not None:
        updates["shard"] = str(shard)
    if config.known_hosts is not None:
        updates["known_hosts"] = base / config.known_hosts
    if config.web_config_file is not None:
        updates["web_config_file"] = base / config.web_config_file
    if config.compliance is not None:
        updates["compliance"] = config.compliance.model_copy(
            update={"templates": base / config.compliance.templates}
        )
    config = config.model_copy(update=updates)
    config._source = raw
    if not config.inventory.exists():
        raise ConfigError(config.problem(("inventory",), f"no such file or folder: {config.inventory}"))
    if config.web_config_file is not None and not config.web_config_file.is_file():
        message = f"no such file: {config.web_config_file}"
        raise ConfigError(config.problem(("web_config_file",), message))
    if config.compliance is not None and not config.compliance.templates.is_dir():
        where = ("compliance", "templates")
        raise ConfigError(config.problem(where, f"no such folder: {config.compliance.templates}"))
    return config


_PREFIX = re.compile(r"^(snmp|icmp|tcp|isolation|path) probe: ")


def _culprit(kind: str, settings: Mapping[str, Any]) -> str | None:
    """The one key of a probe's settings without which they parse, if there is exactly one."""
    parse = _settings_parser(kind)
    found = []
    for key in settings:
        try:
            parse({k: v for k, v in settings.items() if k != key})
        except GovnetError:
            continue
        found.append(key)
    return found[0] if len(found) == 1 else None


def _settings_parser(kind: str) -> Callable[[Mapping[str, Any]], object]:
    """The strict settings parser of a probe kind (imported here: some pull in pysnmp)."""
    from govnet.probes.icmp_settings import IcmpSettings  # noqa: PLC0415
    from govnet.probes.isolation import IsolationSettings  # noqa: PLC0415
    from govnet.probes.path import PathSettings as PathProbeSettings  # noqa: PLC0415
    from govnet.probes.snmp_config import SnmpSettings  # noqa: PLC0415
    from govnet.probes.tcp import TcpSettings  # noqa: PLC0415

    parsers: dict[str, Callable[[Mapping[str, Any]], object]] = {
        "icmp": IcmpSettings.parse,
        "isolation": IsolationSettings.parse,
        "path": PathProbeSettings.parse,
        "snmp": SnmpSettings.parse,
        "tcp": TcpSettings.parse,
    }
    return parsers[kind]


def _dotted(where: tuple[str | int, ...]) -> str:
    """``traps.communities[0]``, as pydantic's problems name fields."""
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")


def _named_key(found: Problem) -> Problem:
    """pydantic reports a bad mapping *key* (``probes.http``) at ``probes.http.[key]``."""
    if found.field is None or not found.field.endswith(".[key]"):
        return found
    field = found.field.removesuffix(".[key]")
    name = field.rpartition(".")[2]
    return Problem(f"unknown name '{name}'; {found.message}", found.file, found.line, field)


__all__ = ["DaemonConfig", "IPv4Network", "load_config"]
