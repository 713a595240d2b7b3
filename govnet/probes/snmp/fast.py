"""SNMPv2c over one UDP socket for every target: the fast path of the ``snmp`` probe.

Why not the pysnmp engine for v2c: at ~1.4 ms of CPU per 5-OID GET the engine caps a core at
~700 requests/s, and 1,000 units polled every few seconds would need a core to themselves.
Here a request is a prepared byte string (``govnet.probes.snmp.ber.RequestTemplate``) sent on one shared
datagram socket; answers are matched to requests by request-id and source address, so no
socket, task or ASN.1 object is created per request. Retries resend the same bytes (same
request-id), so a late answer to the first try still counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from dataclasses import dataclass
from typing import cast

from govnet.probes.snmp.ber import (
    FIRST_REQUEST_ID,
    LAST_REQUEST_ID,
    BerError,
    RequestTemplate,
    Response,
    decode_response,
)

log = logging.getLogger(__name__)

Address = tuple[str, int]

RECEIVE_BUFFER = 4 * 1024 * 1024
"""Answers to a burst of max_in_flight requests arrive together; the default ~200 kB socket
buffer would drop some of them on a fast network."""


class SnmpError(Exception):
    """An SNMP exchange failed in a way the probe reports as a result detail (never escapes)."""


class SnmpTimeout(SnmpError):
    """No answer after every retry."""


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[Response | None]
    address: Address


class _Endpoint(asyncio.DatagramProtocol):
    """Receives for one local socket and hands every datagram to the client."""

    def __init__(self, client: V2cClient) -> None:
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # selector transports don't subclass it
        sock: socket.socket | None = transport.get_extra_info("socket")
        if sock is not None:
            _grow_receive_buffer(sock)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.client.received(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("snmp socket error: %s", exc)


def _grow_receive_buffer(sock: socket.socket) -> None:
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    for option in (force, socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
        except OSError:
            continue  # SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by rmem_max
        return


class V2cClient:
    """Sends prepared v2c requests and awaits their answers, at most ``max_in_flight`` at once.

    One socket per (address family, source address); normally that is exactly one socket.
    """

    def __init__(self, max_in_flight: int = 256) -> None:
        self.max_in_flight = max_in_flight
        self._pending: dict[int, _Pending] = {}
        self._endpoints: dict[tuple[int, str | None], asyncio.Future[_Endpoint]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_id = random.randrange(FIRST_REQUEST_ID, LAST_REQUEST_ID)  # noqa: S311 - not a secret
        self.sent = 0
        self.dropped = 0
        """Datagrams that were malformed or answered nothing pending (late, duplicate, stray)."""

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests, restarts): old sockets are dead
            self.close()
            self._loop = loop
            self._slots = asyncio.Semaphore(self.max_in_flight)
        return loop

    async def _endpoint(self, family: int, source: str | None) -> _Endpoint:
        key = (family, source)
        waiter = self._endpoints.get(key)
        if waiter is None:
            loop = asyncio.get_running_loop()
            waiter = loop.create_future()
            self._endpoints[key] = waiter
            local = (source or ("::" if family == socket.AF_INET6 else "0.0.0.0"), 0)  # noqa: S104 - client socket, ephemeral port
            try:
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: _Endpoint(self), local_addr=local, family=family
                )
            except OSError as exc:
                del self._endpoints[key]  # the next cycle tries again
                error = SnmpError(f"cannot open UDP socket from {local[0]}: {exc.strerror}")
                waiter.set_exception(error)  # requests already waiting for this socket fail alike
                waiter.exception()  # retrieved: no "never retrieved" warning when nobody waits
                raise error from exc
            waiter.set_result(protocol)
        return await asyncio.shield(waiter)

    def _new_request_id(self) -> int:
        request_id = self._next_id
        while request_id in self._pending:
            request_id = request_id + 1 if request_id < LAST_REQUEST_ID else FIRST_REQUEST_ID
        self._next_id = request_id + 1 if request_id < LAST_REQUEST_ID else FIRST_REQUEST_ID
        return request_id

    async def request(
        self,
        address: Address,
        template: RequestTemplate,
        timeout: float,
        retries: int,
        source: str | None = None,
    ) -> tuple[Response, float]:
        """Send ``template`` to ``address``; the matching response and its round-trip time.

        Raises SnmpTimeout after ``retries + 1`` unanswered attempts of ``timeout`` s each.
        """
        loop = self._bind_loop()
        assert self._slots is not None
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        async with self._slots:
            endpoint = await self._endpoint(family, source)
            transport = endpoint.transport
            assert transport is not None
            request_id = self._new_request_id()
            packet = template.packet(request_id)
            try:
                for _ in range(retries + 1):
                    sent_at = loop.time()
                    future: asyncio.Future[Response | None] = loop.create_future()
                    self._pending[request_id] = _Pending(future, address)
                    transport.sendto(packet, address)
                    self.sent += 1
                    timer = loop.call_later(timeout, _expire, future)
                    try:
                        response = await future
                    finally:
                        timer.cancel()
                    if response is not None:
                        return response, loop.time() - sent_at
            finally:
                self._pending.pop(request_id, None)
        raise SnmpTimeout(
            f"timeout: no answer from {address[0]}:{address[1]} after {retries + 1} × {timeout:g} s"
        )

    def received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            response = decode_response(data)
        except (BerError, IndexError, ValueError):  # a broken datagram is the sender's problem
            self.dropped += 1
            return
        pending = self._pending.get(response.request_id)
        if (
            pending is None
            or pending.future.done()
            or pending.address[0] != addr[0]
            or pending.address[1] != addr[1]
        ):
            self.dropped += 1
            return
        pending.future.set_result(response)

    def close(self) -> None:
        """Close every socket; pending requests end as timeouts.

        After ``asyncio.run`` returned, the old loop is closed and cannot schedule anything: the
        sockets are then simply dropped (and closed when collected).
        """
        for waiter in self._endpoints.values():
            if waiter.done() and not waiter.cancelled():
                transport = waiter.result().transport
                if transport is not None:
                    with contextlib.suppress(RuntimeError):
                        transport.close()
        self._endpoints.clear()
        for pending in self._pending.values():
            if not pending.future.done():
                with contextlib.suppress(RuntimeError):
                    pending.future.set_result(None)
        self._pending.clear()


def _expire(future: asyncio.Future[Response | None]) -> None:
    if not future.done():
        future.set_result(None)
