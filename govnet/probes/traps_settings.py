"""Settings of the trap receiver, parsed strictly; secrets kept out of every repr and log line.

The communities and v3 keys arrive *resolved* (the daemon reads ``env:`` / ``file:`` references);
they are held in fields that ``repr`` skips, so a logged settings object or a traceback never
shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govnet.errors import ConfigError, Problem
from govnet.probes.isolation_settings import check_keys, ipv4, number

KEYS = ("listen", "communities", "users", "rate", "burst", "queue", "sources")
USER_KEYS = ("user", "auth_protocol", "auth_key", "priv_protocol", "priv_key", "engine_id")
AUTH_PROTOCOLS = ("none", "md5", "sha", "sha256", "sha512")
PRIV_PROTOCOLS = ("none", "des", "aes", "aes256")
_ENGINE_ID = re.compile(r"^(0x)?([0-9a-fA-F]{2}){5,32}$")


@dataclass(frozen=True, slots=True)
class TrapUser:
    """An SNMPv3 user allowed to send traps; traps are authenticated with the *sender's* engine id."""

    user: str
    engine_id: str
    """The agent's snmpEngineID in hex (``0x8000…``): a trap's authoritative engine is its sender."""
    auth_protocol: str = "sha"
    auth_key: str = field(default="", repr=False)
    priv_protocol: str = "aes"
    priv_key: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class TrapSettings:
    """Where to listen, who may send, and the bounds that keep a trap storm harmless."""

    host: str = "127.0.0.1"
    port: int = 1162
    communities: tuple[str, ...] = field(default=(), repr=False)
    """Accepted v2c (and v1) community strings, resolved values."""
    users: tuple[TrapUser, ...] = field(default=(), repr=False)
    rate: float = 20.0
    """Traps per second accepted from one source address, on average."""
    burst: int = 40
    """Traps one source may send at once before the rate applies (a reboot sends a few)."""
    queue: int = 1000
    """Admitted datagrams waiting for decoding; beyond it they are dropped and counted."""
    sources: int = 10_000
    """Source addresses whose rate is tracked (least recently heard forgotten first)."""

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> TrapSettings:
        check_keys(settings, KEYS, "traps")
        host, port = _listen(settings.get("listen", "127.0.0.1:1162"))
        communities = settings.get("communities", [])
        if isinstance(communities, str) or not isinstance(communities, list | tuple):
            raise ConfigError(Problem("must be a list of community strings", field="communities"))
        for index, community in enumerate(communities):
            if not isinstance(community, str) or not 0 < len(community) <= 64:
                raise ConfigError(Problem("must be text of 1-64 characters", field=f"communities[{index}]"))
        users = tuple(_user(entry, index) for index, entry in enumerate(_list(settings, "users")))
        if not communities and not users:
            raise ConfigError(
                Problem("no community or v3 user: every trap would be rejected", field="communities")
            )
        return cls(
            host,
            port,
            tuple(communities),
            users,
            rate=number(settings, "rate", 20.0, 0.1, 100_000),
            burst=int(number(settings, "burst", 40, 1, 1_000_000, integer=True)),
            queue=int(number(settings, "queue", 1000, 1, 1_000_000, integer=True)),
            sources=int(number(settings, "sources", 10_000, 1, 10_000_000, integer=True)),
        )


def _listen(value: object) -> tuple[str, int]:
    """``ADDR:PORT`` → (address, port).

    >>> _listen("198.18.224.0:1162")
    ('198.18.224.0', 1162)
    """
    text = str(value)
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65_536:  # 0: any free port (tests)
        raise ConfigError(Problem(f"must be ADDRESS:PORT, not {text!r}", field="listen"))
    return ipv4(host, "listen"), int(port)


def _list(settings: Mapping[str, Any], key: str) -> list[Any]:
    value = settings.get(key, [])
    if not isinstance(value, list | tuple):
        raise ConfigError(Problem("must be a list", field=key))
    return list(value)


def _user(entry: object, index: int) -> TrapUser:
    where = f"users[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(Problem("must be a mapping with user, engine_id and keys", field=where))
    check_keys(entry, USER_KEYS, f"traps {where}")
    for key in ("user", "engine_id"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ConfigError(Problem("is required (text)", field=f"{where}.{key}"))
    if not _ENGINE_ID.match(entry["engine_id"]):
        raise ConfigError(
            Problem("must be the agent's engine id in hex (10-64 digits)", field=f"{where}.engine_id")
        )
    auth, priv = entry.get("auth_protocol", "sha"), entry.get("priv_protocol", "aes")
    if auth not in AUTH_PROTOCOLS:
        raise ConfigError(
            Problem(f"must be one of {', '.join(AUTH_PROTOCOLS)}", field=f"{where}.auth_protocol")
        )
    if priv not in PRIV_PROTOCOLS or (auth == "none" and priv != "none"):
        raise ConfigError(
            Problem(
                f"must be one of {', '.join(PRIV_PROTOCOLS)} (none without auth)",
                field=f"{where}.priv_protocol",
            )
        )
    keys = {}
    for key, protocol in (("auth_key", auth), ("priv_key", priv)):
        value = entry.get(key, "")
        if protocol != "none" and (not isinstance(value, str) or len(value) < 8):
            raise ConfigError(Problem("must be at least 8 characters", field=f"{where}.{key}"))
        keys[key] = value if protocol != "none" else ""
    engine_id = entry["engine_id"].removeprefix("0x")
    return TrapUser(entry["user"], engine_id, auth, keys["auth_key"], priv, keys["priv_key"])
