"""The trap receiver: linkDown / linkUp / coldStart / warmStart, acted on the moment they arrive.

Why a receiver and not only polling: a unit's uplink going down is known to its switch at once;
waiting for the next probe cycle (and its damping) costs tens of seconds an alert receiver should
not wait. So the daemon listens for SNMP notifications (pysnmp 7, asyncio, one engine) and calls
``on_trap(TrapEvent(...))`` as each one is decoded, counting events per kind.

Why it is bounded, and where: a flapping port or a misconfigured agent can send thousands of traps
a second, and pysnmp's transport would queue one event-loop callback per datagram without limit.
Here every datagram first passes a per-source token bucket (``rate`` per second, ``burst``) and a
bounded queue (``queue``), both checked *before* any decoding, so an excess costs a dictionary
lookup and a counter; admitted datagrams are decoded in batches that yield to the event loop, so
the probe cycles keep their schedule during a storm. What is dropped is counted (``counts``:
``dropped_rate``, ``dropped_queue``), as is what pysnmp refused (``rejected``: wrong community,
unknown v3 user, garbage; ``bad_community`` from SNMPv2-MIB's snmpInBadCommunityNames).
Communities and keys are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.api import v2c

from govnet.errors import ConfigError, Problem
from govnet.probes.traps.settings import TrapSettings, TrapUser

__all__ = ["KINDS", "TrapEvent", "TrapReceiver", "TrapSettings", "start"]

log = logging.getLogger(__name__)

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1."
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8."
KINDS = {
    "1.3.6.1.6.3.1.1.5.1": "coldStart",
    "1.3.6.1.6.3.1.1.5.2": "warmStart",
    "1.3.6.1.6.3.1.1.5.3": "linkDown",
    "1.3.6.1.6.3.1.1.5.4": "linkUp",
}
"""snmpTrapOID → event kind; any other notification is kind ``other``."""
SO_RCVBUFFORCE = 33
RCVBUF = 4 << 20
BATCH = 64
"""Datagrams decoded per event-loop turn (~1 ms of pysnmp each): other tasks run in between."""
_AUTH = {
    "none": config.USM_AUTH_NONE,
    "md5": config.USM_AUTH_HMAC96_MD5,
    "sha": config.USM_AUTH_HMAC96_SHA,
    "sha256": config.USM_AUTH_HMAC192_SHA256,
    "sha512": config.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    "none": config.USM_PRIV_NONE,
    "des": config.USM_PRIV_CBC56_DES,
    "aes": config.USM_PRIV_CFB128_AES,
    "aes256": config.USM_PRIV_CFB256_AES,
}


@dataclass(frozen=True, slots=True)
class TrapEvent:
    """One decoded notification."""

    kind: str
    """``linkDown``, ``linkUp``, ``coldStart``, ``warmStart`` or ``other``."""
    source_address: str
    """The agent's address: where the datagram came from."""
    if_index: int | None
    if_oper_status: int | None
    """IF-MIB ifOperStatus carried by link traps (1 up, 2 down, …)."""
    uptime: float | None
    """The agent's sysUpTime when it sent the trap, in seconds."""
    at: float
    """Wall-clock time the trap was received."""
    oid: str = ""
    """The snmpTrapOID, for kinds this receiver does not name."""


class _Transport(udp.UdpAsyncioTransport):  # type: ignore[misc]
    """pysnmp's UDP transport, with admission control in front of its decoder."""

    def __init__(self, receiver: TrapReceiver, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self.receiver = receiver

    def datagram_received(self, datagram: bytes, address: tuple[str, int]) -> None:
        self.receiver._admit(datagram, address)


class TrapReceiver:
    """A running notification receiver; see `start`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: TrapSettings,
        on_trap: Callable[[TrapEvent], object],
    ) -> None:
        self.settings = settings
        self.on_trap = on_trap
        self.counts: dict[str, int] = dict.fromkeys(
            ("received", "dropped_rate", "dropped_queue", "rejected", *KINDS.values(), "other"), 0
        )
        """Datagrams received, dropped (rate / queue), rejected by pysnmp, and events per kind."""
        self._loop = loop
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()
        self._queue: deque[tuple[bytes, tuple[str, int]]] = deque()
        self._draining = False
        self._delivered = 0
        self._closed = False
        self._sock = _bind(settings.host, settings.port)
        self._engine = engine.SnmpEngine()
        self._engine.register_transport_dispatcher(AsyncioDispatcher(loop=loop))
        self._transport = _Transport(self, loop)
        config.add_transport(self._engine, udp.DOMAIN_NAME, self._transport)
        for index, community in enumerate(settings.communities):
            config.add_v1_system(self._engine, f"govnet-{index}", community)
        for user in settings.users:
            _add_user(self._engine, user)
        self._receiver = ntfrcv.NotificationReceiver(self._engine, self._notified)
        self._endpoint = loop.create_task(
            loop.create_datagram_endpoint(lambda: self._transport, sock=self._sock)
        )

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the port chosen by the kernel when configured as 0)."""
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def bad_community(self) -> int:
        """Datagrams with an unknown community (pysnmp's snmpInBadCommunityNames)."""
        (counter,) = self._engine.get_mib_builder().import_symbols("__SNMPv2-MIB", "snmpInBadCommunityNames")
        return int(counter.syntax)

    def close(self) -> None:
        """Stop listening and release the engine; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._queue.clear()
        self._endpoint.cancel()
        self._receiver.close(self._engine)
        config.delete_transport(self._engine, udp.DOMAIN_NAME)
        self._transport.close_transport()
        self._engine.close_dispatcher()
        self._sock.close()

    def _admit(self, datagram: bytes, address: tuple[str, int]) -> None:
        """Rate and queue checks, before any decoding (see module doc)."""
        self.counts["received"] += 1
        if self._closed:
            return
        now = time.monotonic()
        bucket = self._buckets.get(address[0])
        if bucket is None:
            if len(self._buckets) >= self.settings.sources:
                self._buckets.popitem(last=False)
            bucket = self._buckets[address[0]] = [float(self.settings.burst), now]
        else:
            self._buckets.move_to_end(address[0])
            bucket[0] = min(float(self.settings.burst), bucket[0] + (now - bucket[1]) * self.settings.rate)
            bucket[1] = now
        if bucket[0] < 1.0:
            self.counts["dropped_rate"] += 1
            return
        bucket[0] -= 1.0
        if len(self._queue) >= self.settings.queue:
            self.counts["dropped_queue"] += 1
            return
        self._queue.append((datagram, address))
        if not self._draining:
            self._draining = True
            self._loop.call_soon(self._drain)

    def _drain(self) -> None:
        """Hand up to `BATCH` admitted datagrams to pysnmp, then yield to the loop."""
        for _ in range(min(BATCH, len(self._queue))):
            datagram, address = self._queue.popleft()
            before = self._delivered
            try:
                self._transport._callback_function(
                    self._transport, udp.UdpTransportAddress(address), datagram
                )
            except Exception:  # noqa: BLE001 - a hostile datagram must never stop the receiver
                log.debug("traps: undecodable datagram from %s", address[0])
            if self._delivered == before:
                self.counts["rejected"] += 1
        if self._queue and not self._closed:
            self._loop.call_soon(self._drain)
        else:
            self._draining = False

    def _notified(
        self,
        snmp_engine: Any,
        state_reference: Any,
        context_engine_id: Any,
        context_name: Any,
        varbinds: Any,
        context: Any,
    ) -> None:
        """pysnmp's callback, once per accepted notification: decode, count, tell the daemon."""
        self._delivered += 1
        _domain, address = snmp_engine.message_dispatcher.get_transport_info(state_reference)
        event = decode(varbinds, str(address[0]))
        self.counts[event.kind] += 1
        try:
            self.on_trap(event)
        except Exception:
            log.exception("traps: on_trap failed for a %s from %s", event.kind, event.source_address)


def decode(varbinds: Any, source: str, at: float | None = None) -> TrapEvent:
    """A `TrapEvent` from a notification's varbinds (SNMPv2 form; pysnmp converts v1 traps)."""
    oid, uptime, if_index, oper = "", None, None, None
    for name, value in varbinds:
        key = str(name)
        if key == SNMP_TRAP_OID:
            oid = str(value)
        elif key == SYS_UPTIME:
            uptime = int(value) / 100.0
        elif key.startswith(IF_INDEX):
            if_index = int(value)
        elif key.startswith(IF_OPER_STATUS):
            oper = int(value)
            if if_index is None:
                if_index = int(key.rsplit(".", 1)[1])
    return TrapEvent(
        KINDS.get(oid, "other"), source, if_index, oper, uptime, time.time() if at is None else at, oid
    )


def start(
    loop: asyncio.AbstractEventLoop,
    settings: Mapping[str, Any] | TrapSettings,
    on_trap: Callable[[TrapEvent], object],
) -> TrapReceiver:
    """Listen on ``settings`` ``listen`` (bound before returning: a busy port fails here, as a
    ``ConfigError``) and call ``on_trap`` for every accepted notification; ``close()`` to stop."""
    parsed = settings if isinstance(settings, TrapSettings) else TrapSettings.parse(settings)
    return TrapReceiver(loop, parsed, on_trap)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            Problem(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="listen")
        ) from None
    try:  # room for a burst, so one noisy agent does not push others' traps out of the kernel queue
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except PermissionError:  # needs CAP_NET_ADMIN; plain SO_RCVBUF is capped by net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.setblocking(False)
    return sock


def _add_user(snmp_engine: Any, user: TrapUser) -> None:
    config.add_v3_user(
        snmp_engine,
        user.user,
        _AUTH[user.auth_protocol],
        user.auth_key or None,
        _PRIV[user.priv_protocol],
        user.priv_key or None,
        securityEngineId=v2c.OctetString(hexValue=user.engine_id),
    )
