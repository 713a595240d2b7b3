"""SNMPv3 through one pysnmp engine shared by every v3 target.

USM (engine-id discovery, time windows, key localisation, authentication and privacy) is
exactly what pysnmp does well and what must not be re-implemented, so v3 targets use pysnmp's
asyncio high-level API on a single ``SnmpEngine``; the ~1.4 ms of CPU per request is the price
of v3. Answers come back as the same ``Response`` the v2c fast path produces, so the probe's
logic does not care which path served a target. pysnmp itself (``govnet.probes.snmp.usm``) is
imported by the first v3 request: a site polled only over SNMPv2c never loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from govnet.probes.snmp.ber import Oid, Response
from govnet.probes.snmp.fast import Address, SnmpError, SnmpTimeout

AUTH_PROTOCOLS = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
"""Names an operator may give; pysnmp's objects for them are in ``usm`` (imported on first use)."""
PRIV_PROTOCOLS = (
    "des",
    "3des",
    "aes",
    "aes128",
    "aes192",
    "aes256",
    "aes192-blumenthal",
    "aes256-blumenthal",
)


def _pysnmp() -> ModuleType:
    """``govnet.probes.snmp.usm``, i.e. pysnmp: imported by the first v3 request, not before
    (~21 MB that a daemon polling only SNMPv2c never pays)."""
    from govnet.probes.snmp import usm  # noqa: PLC0415 - pysnmp only when SNMPv3 is used

    return usm


@dataclass(frozen=True, slots=True)
class UsmCredentials:
    """A v3 user; the keys never appear in repr, logs or details."""

    user: str
    auth_protocol: str | None = None
    auth_key: str = field(default="", repr=False)
    priv_protocol: str | None = None
    priv_key: str = field(default="", repr=False)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> UsmCredentials:
        """Read ``user``, ``auth_protocol``/``auth_key``, ``priv_protocol``/``priv_key``; ValueError if wrong."""
        user = params.get("user")
        if not isinstance(user, str) or not user:
            raise ValueError("v3 needs a non-empty 'user'")
        auth, priv = params.get("auth_protocol"), params.get("priv_protocol")
        if auth is not None and str(auth).lower() not in AUTH_PROTOCOLS:
            raise ValueError(f"unknown auth_protocol {auth!r} (one of {', '.join(AUTH_PROTOCOLS)})")
        if priv is not None and str(priv).lower() not in PRIV_PROTOCOLS:
            raise ValueError(f"unknown priv_protocol {priv!r} (one of {', '.join(PRIV_PROTOCOLS)})")
        if priv is not None and auth is None:
            raise ValueError("priv_protocol needs an auth_protocol (no authNoPriv-less privacy in USM)")
        for proto, key in ((auth, "auth_key"), (priv, "priv_key")):
            if proto is not None and len(str(params.get(key) or "")) < 8:
                raise ValueError(f"'{key}' must be at least 8 characters")
        return cls(
            user,
            None if auth is None else str(auth).lower(),
            str(params.get("auth_key") or ""),
            None if priv is None else str(priv).lower(),
            str(params.get("priv_key") or ""),
        )

    def usm_user(self) -> Any:
        """pysnmp's record of this user (imports pysnmp)."""
        return _pysnmp().usm_user(
            self.user, self.auth_protocol, self.auth_key, self.priv_protocol, self.priv_key
        )


def _same_address(key: Any, address: Address) -> bool:
    """Whether an engine-ID cache key ``(transportDomain, transportAddress)`` is ``address``."""
    try:
        _, where = key
        return (str(where[0]), int(where[1])) == (address[0], address[1])
    except (TypeError, ValueError, IndexError):
        return False


class _UserGate:
    """pysnmp keys its USM table by user name: two credential sets for one user name must not
    be configured at once, so requests with a different set for a busy name wait their turn."""

    def __init__(self) -> None:
        self._active: dict[str, tuple[UsmCredentials, int]] = {}
        self._changed = asyncio.Condition()

    def _free_for(self, creds: UsmCredentials) -> bool:
        active = self._active.get(creds.user)
        return active is None or active[0] == creds

    @asynccontextmanager
    async def use(self, creds: UsmCredentials) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self._free_for(creds))
            _, count = self._active.get(creds.user, (creds, 0))
            self._active[creds.user] = (creds, count + 1)
        try:
            yield
        finally:
            async with self._changed:
                current, count = self._active[creds.user]
                if count == 1:
                    del self._active[creds.user]
                else:
                    self._active[creds.user] = (current, count - 1)
                self._changed.notify_all()


V3_IN_FLIGHT = 32
"""SNMPv3 requests in flight at once. Each costs ~1.4 ms of pysnmp CPU on the event loop; a few
hundred started together (a first cycle's discovery of a city) make one loop turn of seconds,
during which ICMP replies wait unread and count as lost (seen in the soak on a busy machine)."""


class EngineClient:
    """GET and GETBULK for v3 targets over one lazily created pysnmp ``SnmpEngine``."""

    def __init__(self, in_flight: int = V3_IN_FLIGHT) -> None:
        self.in_flight = in_flight
        self._slots: asyncio.Semaphore | None = None
        self._engine: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate = _UserGate()
        self._transports: dict[tuple[Address, float, int], Any] = {}
        self._users: dict[UsmCredentials, Any] = {}
        self._context: Any = None

    def _bind(self) -> Any:
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._engine is None:
            self.close()
            self._loop = loop
            self._engine = _pysnmp().new_engine()
            if self._context is None:
                self._context = _pysnmp().new_context()
            self._gate = _UserGate()
            self._slots = asyncio.Semaphore(self.in_flight)
        return self._engine

    async def _transport(self, address: Address, timeout: float, retries: int) -> Any:
        key = (address, timeout, retries)
        transport = self._transports.get(key)
        if transport is None:
            transport = await _pysnmp().transport(address, timeout, retries)
            self._transports[key] = transport
        return transport

    async def request(
        self,
        creds: UsmCredentials,
        address: Address,
        oids: Sequence[Oid],
        timeout: float,
        retries: int,
        max_repetitions: int = 0,
    ) -> tuple[Response, float]:
        """GET ``oids`` (or GETBULK when ``max_repetitions`` > 0); SnmpError / SnmpTimeout on failure."""
        engine = self._bind()
        transport = await self._transport(address, timeout, retries)
        user = self._users.get(creds)
        if user is None:
            user = self._users[creds] = creds.usm_user()
        pysnmp = _pysnmp()
        assert self._slots is not None
        async with self._slots, self._gate.use(creds):
            started = asyncio.get_running_loop().time()
            indication, status, index, answered = await pysnmp.send(
                engine, user, transport, self._context, oids, max_repetitions
            )
        rtt = asyncio.get_running_loop().time() - started
        if indication is not None:
            failure = pysnmp.failure(indication)
            if failure == "timeout":
                self.forget_agent(address)
                raise SnmpTimeout(
                    f"timeout: no answer from {address[0]}:{address[1]} after {retries + 1} × {timeout:g} s"
                )
            if failure == "auth":
                raise SnmpError(f"authentication failure: {indication}")
            raise SnmpError(f"SNMP error: {indication}")
        return Response(0, status, index, answered), rtt

    def forget_agent(self, address: Address) -> int:
        """Drop what the engine remembers of the agent at ``address`` (its snmpEngineID).

        pysnmp caches each agent's engine ID for 300 s and never re-discovers it on its own: an
        agent that comes back with another engine ID (a replaced device, a reset agent) answers
        every request with a usmStatsUnknownEngineIDs report that the engine drops, so all polls
        of it time out until the entry expires (and it is refreshed by any answer meanwhile).
        After a timeout the next request discovers the agent afresh; that costs one extra round
        trip for an agent that is merely down. pysnmp has no public call for this: the cache is
        a private attribute of its SNMPv3 message processing model, looked up defensively (if a
        pysnmp release renames it, nothing is forgotten and the daemon's probe renewal, see
        `govnet.monitor.renewal`, still recovers). Returns how many entries were dropped.
        """
        if self._engine is None:
            return 0
        dropped = 0
        for model in self._engine.message_processing_subsystems.values():
            private = f"_{type(model).__name__}__engineIdCache"
            cache, expiries = getattr(model, private, None), getattr(model, private + "ExpQueue", None)
            if not isinstance(cache, dict) or not isinstance(expiries, dict):
                continue
            for key in [k for k in cache if _same_address(k, address)]:
                del cache[key]
                dropped += 1
                for keys in expiries.values():  # its expiry would delete a key no longer there
                    while key in keys:
                        keys.remove(key)
        return dropped

    def close(self) -> None:
        if self._engine is not None:
            with contextlib.suppress(RuntimeError):  # its event loop may be closed already
                self._engine.close_dispatcher()
        self._engine = None
        self._transports.clear()
        self._users.clear()
