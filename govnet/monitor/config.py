"""The daemon's YAML config, loaded as strictly as the inventory (``FILE:LINE`` errors).

Paths in the file are relative to the file. The ``probes:`` section (and each segment's under
``segments:``) has one block per kind of the registry it is loaded with (`config_model`): the
kind's own settings model plus ``interval`` (seconds between cycles: the scheduler's business)
and ``enabled``. So a bad probe setting is a pydantic error located from the YAML marks like any
other; a probe that fails to build (a missing namespace) names a field, placed the same way.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
)

from govnet.errors import ConfigError, GovnetError, Problem, UsageError
from govnet.inventory.models import SECRET_REF_RE, Network, text_only
from govnet.inventory.problems import from_pydantic
from govnet.inventory.select import Shard
from govnet.inventory.yamlsrc import MDict, load_yaml, locate, read_text
from govnet.probes.common import ProbeSettings
from govnet.probes.kind import Registry
from govnet.probes.path.probe import PathSettings
from govnet.strict import Strict

SEGMENT_NAMES = ("intranet", "party", "extranet")


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


SCHEDULE: dict[str, Any] = {
    "interval": (Annotated[float, Field(ge=0.5, le=86400)] | None, None),
    "enabled": (bool, True),
}
"""What the config adds to every kind's settings in a block: the scheduler's part."""


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
    probes: Strict = Strict()
    """One block per kind: the model `config_model` makes for a registry replaces this one."""
    segments: Strict = Strict()
    traps: Traps | None = None
    path: PathSettings = PathSettings()
    known_hosts: Path | None = None
    compliance: Compliance | None = None
    web_config_file: Path | None = None
    """The exporter-toolkit web configuration (TLS, basic auth) of /metrics and the status page;
    ``govnet daemon --web.config.file`` overrides it."""
    _source: MDict | None = PrivateAttr(default=None)
    """The marked YAML tree it was read from: where later problems point (``problem``)."""
    _kinds: Registry | None = PrivateAttr(default=None)

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

    @property
    def kinds(self) -> Registry:
        """The probe kinds this config was loaded for (the shipped ones by default)."""
        if self._kinds is None:
            from govnet.probes.registry import default_kinds  # noqa: PLC0415 - some pull in pysnmp

            self._kinds = default_kinds()
        return self._kinds

    def interval(self, probe: str, segment: str | None = None) -> float:
        block = self.block(probe, segment)
        return block.interval if block and block.interval else self.kinds[probe].interval

    def deadline(self, probe: str, segment: str | None = None) -> float:
        """A cycle must finish well before the next one is due."""
        return self.interval(probe, segment) * 0.9

    def block(self, probe: str, segment: str | None = None) -> Any:
        """The kind's block (its settings model plus interval and enabled), the segment's first."""
        if segment is not None:
            found = getattr(getattr(self.segments, segment, None), probe, None)
            if found is not None:
                return found
        return getattr(self.probes, probe, None)

    def enabled(self, probe: str) -> bool:
        """Configured and not ``enabled: false``; a kind without defaults only when configured."""
        block = getattr(self.probes, probe, None)
        return (block is None and not self.kinds[probe].opt_in) or bool(block is not None and block.enabled)

    def settings(self, probe: str, segment: str | None = None) -> ProbeSettings:
        """The kind's own settings model for a job (the block without interval and enabled), with the
        daemon's ``allowed_networks``."""
        model: type[ProbeSettings] = self.kinds[probe].settings
        block = self.block(probe, segment)
        values = {name: getattr(block, name) for name in model.model_fields} if block is not None else {}
        if "allowed_networks" in model.model_fields:
            values["allowed_networks"] = tuple(self.allowed_networks)
        if block is None:
            return model(**values)
        return model.model_construct(**values)  # the block's values, validated when the file was read

    def where(self, probe: str, segment: str | None = None) -> tuple[str, ...]:
        """Where a kind's block is in the file (``probes.icmp``, ``segments.party.icmp``, ``path``)."""
        if probe == "path":
            return ("path",)
        if segment is not None and getattr(getattr(self.segments, segment, None), probe, None) is not None:
            return ("segments", segment, probe)
        return ("probes", probe)

    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host, int(port)

    def problem(self, where: tuple[str | int, ...], message: str) -> Problem:
        """A problem found after loading (a probe's settings, the listen port), at its line."""
        mark = locate(self._source, where) if self._source is not None else None
        return Problem(message, mark.file if mark else None, mark.line if mark else None, _dotted(where))

    def probe_error(self, probe: str, segment: str | None, exc: ConfigError) -> ConfigError:
        """A ``ConfigError`` from building a probe (it names a ``field``), at that field's line."""
        block = self.where(probe, segment)
        problems = []
        for found in exc.problems:
            where: tuple[str | int, ...] = block
            if found.field:
                where = (*block, *found.field.split("."))
            problems.append(self.problem(where, found.message))
        return ConfigError(problems)

    def allowed(self, address: str) -> bool:
        try:
            ip = IPv4Address(text_only(address))
        except ValueError:
            return False
        return any(ip in net for net in self.allowed_networks)


def config_model(kinds: Registry) -> type[DaemonConfig]:
    """`DaemonConfig` with one block per kind under ``probes:`` and each segment (made once per registry)."""
    key = tuple((name, id(kind)) for name, kind in kinds.items())
    if key in _MODELS:
        return _MODELS[key][0]
    blocks: dict[str, Any] = {
        name: (create_model(f"{name.title()}Block", __base__=kind.settings, **SCHEDULE) | None, None)
        for name, kind in kinds.items()
    }
    probes = create_model("Probes", __base__=Strict, **blocks)
    segment = {name: (probes | None, None) for name in SEGMENT_NAMES}
    segments = create_model("Segments", __base__=Strict, **segment)  # type: ignore[call-overload]
    made = create_model(
        "DaemonConfig", __base__=DaemonConfig, probes=(probes, probes()), segments=(segments, segments())
    )
    _MODELS[key] = (made, tuple(kinds.values()))  # the kinds kept alive: their ids stay theirs
    return made


_MODELS: dict[tuple[tuple[str, int], ...], tuple[type[DaemonConfig], tuple[object, ...]]] = {}


def load_config(path: Path, shard: Shard | None = None, kinds: Registry | None = None) -> DaemonConfig:
    """Read and validate a daemon config; relative paths become relative to the file.

    ``shard`` (``govnet daemon --shard K/N``) overrides the file's ``shard:``; ``kinds`` are the
    probe kinds its ``probes:`` may hold (the shipped ones by default).
    """
    if kinds is None:
        from govnet.probes.registry import default_kinds  # noqa: PLC0415 - some pull in pysnmp

        kinds = default_kinds()
    model = config_model(kinds)
    shown = str(path)
    try:
        raw = load_yaml(read_text(path, shown), shown)
    except GovnetError as exc:  # the YAML reader speaks of inventories; this is a config
        raise ConfigError(list(exc.problems)) from None
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(from_pydantic(exc, raw, model)) from None
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
    config._source, config._kinds = raw, kinds
    checks: list[tuple[tuple[str, ...], Path, str]] = [(("inventory",), config.inventory, "file or folder")]
    if config.web_config_file is not None:
        checks.append((("web_config_file",), config.web_config_file, "file"))
    if config.compliance is not None:
        checks.append((("compliance", "templates"), config.compliance.templates, "folder"))
    for where, named, kind in checks:
        problem = _unusable(named, kind)
        if problem is not None:
            raise ConfigError(config.problem(where, problem))
    return config


def _unusable(path: Path, kind: str) -> str | None:
    """Why ``path`` cannot serve as a ``kind`` (file, folder, file or folder); None when it can.
    A path the daemon's user may not look into, or one too long, is a message, not a traceback.

    >>> _unusable(Path("/"), "folder") is None
    True
    >>> _unusable(Path("/nonexistent-govnet"), "file")
    'no such file: /nonexistent-govnet'
    >>> _unusable(Path("/" + "x" * 300), "folder")
    'cannot look at /xxxxxxxxxxxxxxxx…: File name too long'
    """
    test = {"file": path.is_file, "folder": path.is_dir}.get(kind, path.exists)
    try:
        if test():
            return None
    except OSError as exc:
        shown = str(path) if len(str(path)) <= 80 else str(path)[:17] + "…"
        return f"cannot look at {shown}: {exc.strerror or exc}"
    return f"no such {kind}: {path}"


def _dotted(where: tuple[str | int, ...]) -> str:
    """``traps.communities[0]``, as pydantic's problems name fields."""
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")


__all__ = ["DaemonConfig", "IPv4Network", "load_config"]
