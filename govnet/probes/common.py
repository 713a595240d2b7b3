"""Settings pieces every probe kind shares: the strict pydantic base, bounded numbers, networks, vantages.

Why one place: a number out of range, a network with host bits or a vantage point (where a
negative or path probe is sent *from*) must be refused with the same words whichever kind it
belongs to. Each kind's settings are ONE pydantic model built from these; the daemon's config
embeds it (`govnet.monitor.config`), so a bad key is reported at its ``FILE:LINE`` from the YAML
marks, and ``Settings.parse`` gives the same problems without a file (tests, ``govnet probe``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import AfterValidator, BeforeValidator, ValidationError, model_validator

from govnet.errors import ConfigError, Problem
from govnet.strict import Strict

DEFAULT_ALLOWED = (IPv4Network("127.0.0.0/8"),)
NOT_ALLOWED = "address not allowed"
SEGMENTS = ("intranet", "party", "extranet")


class ProbeSettings(Strict):
    """A probe kind's settings (``Strict``: frozen, and an unknown key is an error)."""

    kind: ClassVar[str] = "probe"
    """The kind's name, for messages without a file (``unknown icmp setting(s): rtae``)."""

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> Self:
        """The settings from a plain mapping; every problem a ``ConfigError`` naming its field."""
        try:
            return cls.model_validate(dict(settings))
        except ValidationError as exc:
            raise ConfigError([_problem(cls, error) for error in exc.errors(include_url=False)]) from None


def _problem(model: type[ProbeSettings], error: Any) -> Problem:
    dotted = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    field = dotted.lstrip(".") or None
    if error["type"] == "extra_forbidden":
        return Problem(f"unknown {model.kind} setting(s): {error['loc'][-1]}", field=field)
    if error["type"] == "missing":
        return Problem("required key is missing", field=field)
    message = str(error["msg"]).removeprefix("Value error, ")
    return Problem(message[:1].lower() + message[1:], field=field)


def bounded(low: float, high: float, *, integer: bool = False) -> BeforeValidator:
    """A number from ``low`` to ``high``; booleans and text are not numbers (``ttl: "64"`` is refused).

    The message names the range and the value: ``must be an integer from 1 to 1000, not 0``.
    """

    def check(value: Any) -> Any:
        number = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not number or not low <= value <= high:
            what = "an integer" if integer else "a number"
            raise ValueError(f"must be {what} from {low:g} to {high:g}, not {value!r}")
        return int(value) if integer else float(value)

    return BeforeValidator(check)


def _networks(value: Any) -> Any:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError("must be a list of IPv4 networks")
    try:
        return tuple(IPv4Network(str(net)) for net in value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


Networks = Annotated[tuple[IPv4Network, ...], BeforeValidator(_networks)]
"""``allowed_networks``: the only networks a probe sends to (the daemon passes its configured list)."""


def ipv4_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"write the address as text, not {value!r}")
    try:
        socket.inet_pton(socket.AF_INET, value)
    except OSError:
        raise ValueError(f"must be an IPv4 address, not {value!r}") from None
    return value


IPv4Text = Annotated[str, BeforeValidator(ipv4_text)]


def _netns(value: str | None) -> str | None:
    if value is not None and (not value or "/" in value):
        raise ValueError(f"must be a network namespace name, not {value!r}")
    return value


V = TypeVar("V", bound="Vantage")


class Vantage(ProbeSettings):
    """A place probes are sent from: a source address, optionally inside a network namespace.

    ``segment`` says which network the vantage sits on (the isolation matrix needs it); when
    None the matrix infers it from the inventory's supernets holding ``source``. ``name`` is
    its key under ``vantages``, filled in by `named` (never read from the file).
    """

    kind: ClassVar[str] = "vantage"
    name: str = ""
    source: IPv4Text | None = None
    netns: Annotated[str | None, AfterValidator(_netns)] = None
    segment: Literal["intranet", "party", "extranet"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _named_by_its_key(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "name" in data:
            raise ValueError("a vantage is named by its key under vantages, not by a name key")
        return data


class SourcedVantage(Vantage):
    """A vantage negative probes are sent from: its source address is required."""

    source: IPv4Text


def named(vantages: Mapping[str, V]) -> dict[str, V]:
    """Each vantage with its key as its name (``vantages: {noc: {...}}`` → ``Vantage(name="noc")``)."""
    return {name: vantage.model_copy(update={"name": name}) for name, vantage in vantages.items()}


def allowed(address: str, networks: Iterable[IPv4Network]) -> bool:
    """True when ``address`` is an IPv4 address inside one of ``networks``.

    >>> allowed("127.0.0.9", DEFAULT_ALLOWED), allowed("10.1.2.3", DEFAULT_ALLOWED), allowed("x", DEFAULT_ALLOWED)
    (True, False, False)
    """
    try:
        ip = IPv4Address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
