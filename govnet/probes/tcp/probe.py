"""The ``tcp`` probe: can a service port be connected to? (The info-sharing systems over the extranet.)

Why connect and nothing more: the enterprise information-sharing systems (工商 / 国税 / 地税 / 质监)
are reached by their consumers over the extranet on a few TCP ports; whether the three-way
handshake completes, and how long it takes, is what an operator needs to tell "the network" from
"the application". Speaking the application protocol is the application team's monitoring.

Every target gets one non-blocking socket (optionally bound to ``Target.source``), connected
under a semaphore (``concurrency``, default 256) so a big batch never exhausts file descriptors,
and closed at once. A refusal, a timeout or an unreachable network is a result, never an
exception; addresses outside ``allowed_networks`` are refused before any socket is opened.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Sequence
from typing import Annotated, ClassVar

from govnet.probes.base import ProbeResult, Target
from govnet.probes.common import DEFAULT_ALLOWED, NOT_ALLOWED, Networks, ProbeSettings, allowed, bounded

__all__ = ["NOT_ALLOWED", "TcpProbe", "TcpSettings"]

_UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.ENONET)
Outcome = tuple[bool, str, float | None, int]
"""success, detail, connect time, SYNs sent (0 when refused before a socket connected)."""


class TcpSettings(ProbeSettings):
    """What the daemon's config may set for the tcp probe (unknown keys are errors)."""

    kind: ClassVar[str] = "tcp"
    concurrency: Annotated[int, bounded(1, 65_536, integer=True)] = 256
    """Connections in flight at once."""
    timeout: Annotated[float, bounded(0.001, 3600)] | None = None
    """Seconds one connect may take; None: whatever is left of the run's own timeout."""
    allowed_networks: Networks = DEFAULT_ALLOWED


class TcpProbe:
    """TCP connect checks, many at once, each bounded by the run's deadline."""

    name = "tcp"

    def __init__(self, settings: TcpSettings | None = None) -> None:
        self.settings = settings or TcpSettings()
        self._semaphore: asyncio.Semaphore | None = None

    async def close(self) -> None:
        """Nothing to release: every connection is closed as soon as it is decided."""

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        if self._semaphore is None:  # created here: it must belong to the running loop
            self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        deadline = time.monotonic() + max(timeout, 0.0)
        at = time.time()
        checks = (self._check(target, self._semaphore, deadline, at) for target in targets)
        return list(await asyncio.gather(*checks))

    async def _check(
        self, target: Target, semaphore: asyncio.Semaphore, deadline: float, at: float
    ) -> ProbeResult:
        if not allowed(target.address, self.settings.allowed_networks):
            outcome: Outcome = (False, NOT_ALLOWED, None, 0)
        elif target.port is None or not 0 < target.port < 65_536:
            outcome = (False, "no TCP port given", None, 0)
        else:
            try:
                await asyncio.wait_for(semaphore.acquire(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                outcome = (False, "not attempted before the deadline", None, 0)
            else:
                try:
                    outcome = await self._connect(target.address, target.port, target.source, deadline)
                finally:
                    semaphore.release()
        success, detail, rtt, sent = outcome
        return ProbeResult(
            self.name, target, success, detail, rtt_seconds=rtt, sent=sent, received=int(success), at=at
        )

    async def _connect(self, address: str, port: int, source: str | None, deadline: float) -> Outcome:
        limit = max(0.0, deadline - time.monotonic())
        if self.settings.timeout is not None:
            limit = min(limit, self.settings.timeout)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if source is not None:
                try:
                    sock.bind((source, 0))
                except OSError:
                    return (False, f"source {source} is not a local address", None, 0)
            started = time.monotonic()
            try:
                await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (address, port)), limit)
            except TimeoutError:
                return (False, f"timeout after {limit:.3g} s", None, 1)
            except ConnectionRefusedError:
                return (False, "refused", None, 1)
            except OSError as exc:
                if exc.errno in _UNREACHABLE:
                    return (False, "unreachable", None, 1)
                return (False, f"connect failed: {exc.strerror or exc}", None, 1)
            return (True, "", time.monotonic() - started, 1)
        finally:
            sock.close()
