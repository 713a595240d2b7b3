"""Settings of the trap receiver: one strict model; secrets kept out of every repr and log line.

The communities and v3 keys arrive *resolved* (the daemon reads ``env:`` / ``file:`` references);
they are held in fields that ``repr`` skips, so a logged settings object or a traceback never
shows them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from govnet.probes.common import ProbeSettings, bounded, ipv4_text

_ENGINE_ID = re.compile(r"^(0x)?([0-9a-fA-F]{2}){5,32}$")


def _engine_id(value: str) -> str:
    if not _ENGINE_ID.match(value):
        raise ValueError("must be the agent's engine id in hex (10-64 digits)")
    return value.removeprefix("0x")


def _listen(value: Any) -> Any:
    """``ADDR:PORT`` (port 0: any free port, for tests)."""
    text = str(value)
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65_536:
        raise ValueError(f"must be ADDRESS:PORT, not {text!r}")
    return text


def _listen_host(value: str) -> str:
    ipv4_text(value.rpartition(":")[0])
    return value


def _communities(value: Any) -> Any:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError("must be a list of community strings")
    return value


Key = Annotated[str, Field(min_length=8, repr=False)]


class TrapUser(ProbeSettings):
    """An SNMPv3 user allowed to send traps; traps are authenticated with the *sender's* engine id."""

    kind: ClassVar[str] = "traps user"
    user: Annotated[str, Field(min_length=1)]
    engine_id: Annotated[str, AfterValidator(_engine_id)]
    """The agent's snmpEngineID in hex (``0x8000…``): a trap's authoritative engine is its sender."""
    auth_protocol: Literal["none", "md5", "sha", "sha256", "sha512"] = "sha"
    auth_key: str = Field(default="", repr=False)
    priv_protocol: Literal["none", "des", "aes", "aes256"] = "aes"
    priv_key: str = Field(default="", repr=False)

    @model_validator(mode="after")
    def _keys(self) -> TrapUser:
        if self.auth_protocol == "none" and self.priv_protocol != "none":
            raise ValueError("priv_protocol must be none without auth")
        for key, protocol in (("auth_key", self.auth_protocol), ("priv_key", self.priv_protocol)):
            if protocol != "none" and len(getattr(self, key)) < 8:
                raise ValueError(f"{key} must be at least 8 characters")
        return self


class TrapSettings(ProbeSettings):
    """Where to listen, who may send, and the bounds that keep a trap storm harmless."""

    kind: ClassVar[str] = "traps"
    listen: Annotated[str, BeforeValidator(_listen), AfterValidator(_listen_host)] = "127.0.0.1:1162"
    communities: Annotated[
        tuple[Annotated[str, Field(min_length=1, max_length=64)], ...], BeforeValidator(_communities)
    ] = Field(default=(), repr=False)
    """Accepted v2c (and v1) community strings, resolved values."""
    users: tuple[TrapUser, ...] = Field(default=(), repr=False)
    rate: Annotated[float, bounded(0.1, 100_000)] = 20.0
    """Traps per second accepted from one source address, on average."""
    burst: Annotated[int, bounded(1, 1_000_000, integer=True)] = 40
    """Traps one source may send at once before the rate applies (a reboot sends a few)."""
    queue: Annotated[int, bounded(1, 1_000_000, integer=True)] = 1000
    """Admitted datagrams waiting for decoding; beyond it they are dropped and counted."""
    sources: Annotated[int, bounded(1, 10_000_000, integer=True)] = 10_000
    """Source addresses whose rate is tracked (least recently heard forgotten first)."""

    @model_validator(mode="after")
    def _someone(self) -> TrapSettings:
        if not self.communities and not self.users:
            raise ValueError("no community or v3 user: every trap would be rejected")
        return self

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])
