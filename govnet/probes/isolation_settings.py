"""Settings pieces the ``isolation``, ``path`` and ``tcp`` probes share, parsed strictly.

Why one place: a vantage point (where a negative or path probe is sent *from*) means the same
thing to the isolation probe and to path localisation, and every probe must refuse addresses
outside ``allowed_networks`` the same way. A typo in the daemon's config must fail at load,
naming the field, rather than silently probing from the wrong place.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from govnet.errors import ConfigError, Problem

DEFAULT_ALLOWED = (IPv4Network("127.0.0.0/8"),)
NOT_ALLOWED = "address not allowed"
SEGMENTS = ("intranet", "party", "extranet")
VANTAGE_KEYS = ("source", "netns", "segment")


@dataclass(frozen=True, slots=True)
class Vantage:
    """A place probes are sent from: a source address, optionally inside a network namespace.

    ``segment`` says which network the vantage sits on (the isolation matrix needs it); when
    None the matrix infers it from the inventory's supernets holding ``source``.
    """

    name: str
    source: str | None = None
    netns: str | None = None
    segment: str | None = None


def check_keys(settings: Mapping[str, Any], known: Iterable[str], probe: str) -> None:
    """Unknown keys are a ``ConfigError`` naming them (a typo must not be ignored)."""
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ConfigError(Problem(f"unknown {probe} setting(s): {', '.join(map(str, unknown))}"))


def number(
    settings: Mapping[str, Any], key: str, default: float, low: float, high: float, *, integer: bool = False
) -> float:
    """A bounded number from ``settings`` (``default`` when absent); booleans are not numbers."""
    if key not in settings:
        return default
    value = settings[key]
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        what = "an integer" if integer else "a number"
        raise ConfigError(Problem(f"must be {what} from {low:g} to {high:g}, not {value!r}", field=key))
    return value


def parse_networks(settings: Mapping[str, Any], key: str = "allowed_networks") -> tuple[IPv4Network, ...]:
    """``allowed_networks``: the only networks a probe sends to (default: loopback only).

    >>> parse_networks({"allowed_networks": ["198.18.0.0/15"]})
    (IPv4Network('198.18.0.0/15'),)
    >>> parse_networks({})
    (IPv4Network('127.0.0.0/8'),)
    """
    if key not in settings:
        return DEFAULT_ALLOWED
    networks = settings[key]
    if isinstance(networks, str) or not isinstance(networks, list | tuple):
        raise ConfigError(Problem("must be a list of IPv4 networks", field=key))
    try:
        return tuple(IPv4Network(str(net)) for net in networks)
    except ValueError as exc:
        raise ConfigError(Problem(str(exc), field=key)) from None


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


def ipv4(value: object, field: str) -> str:
    """An IPv4 address written as text, or a ``ConfigError`` on ``field``."""
    try:
        socket.inet_pton(socket.AF_INET, str(value))
    except OSError:
        raise ConfigError(Problem(f"must be an IPv4 address, not {value!r}", field=field)) from None
    if not isinstance(value, str):
        raise ConfigError(Problem(f"write the address as text, not {value!r}", field=field))
    return value


def parse_vantages(settings: Mapping[str, Any], *, source_required: bool = True) -> dict[str, Vantage]:
    """``vantages: {NAME: {source: ADDR, netns: NAME, segment: party}}`` → ``{NAME: Vantage}``.

    >>> parse_vantages({"vantages": {"party-noc": {"source": "198.18.130.1", "netns": "gvl-x-probe"}}})
    {'party-noc': Vantage(name='party-noc', source='198.18.130.1', netns='gvl-x-probe', segment=None)}
    """
    raw = settings.get("vantages", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(
            Problem("must be a mapping of vantage name to {source, netns, segment}", field="vantages")
        )
    vantages: dict[str, Vantage] = {}
    for name, entry in raw.items():
        where = f"vantages.{name}"
        if not isinstance(name, str) or not name:
            raise ConfigError(Problem("vantage names must be non-empty text", field="vantages"))
        if not isinstance(entry, Mapping):
            raise ConfigError(Problem("must be a mapping with source (and netns, segment)", field=where))
        unknown = sorted(set(entry) - set(VANTAGE_KEYS))
        if unknown:
            raise ConfigError(Problem(f"unknown key(s): {', '.join(map(str, unknown))}", field=where))
        if source_required and "source" not in entry:
            raise ConfigError(Problem("needs a source address", field=where))
        source = ipv4(entry["source"], f"{where}.source") if "source" in entry else None
        netns = entry.get("netns")
        if netns is not None and (not isinstance(netns, str) or not netns or "/" in netns):
            raise ConfigError(
                Problem(f"must be a network namespace name, not {netns!r}", field=f"{where}.netns")
            )
        segment = entry.get("segment")
        if segment is not None and segment not in SEGMENTS:
            raise ConfigError(Problem(f"must be one of {', '.join(SEGMENTS)}", field=f"{where}.segment"))
        vantages[name] = Vantage(name, source, netns, segment)
    return vantages
