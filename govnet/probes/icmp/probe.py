"""The ``icmp`` probe: echo requests to every target through ONE kernel ICMP socket.

Why this shape: a process or a socket per target costs ~75x the CPU and loses replies at a few
hundred targets (FIELD-NOTES.md). One socket, sends batched between pacing ticks, and a
non-blocking drain wired into the event loop (``loop.add_reader``) keep pace with fping.

How replies are matched (correctness rests on it):

- *identifier*: one per probe instance. A raw socket draws a random one no other instance of this
  process holds, and a BPF filter drops other identifiers in the kernel; a datagram ("ping")
  socket gets its identifier from the kernel, which also demultiplexes replies.
- each cycle draws a random 32-bit *token*. Packet index ``i = attempt * n + position`` (echoes go
  round-robin, so two echoes to one target are a whole round and at least ``echo_interval`` apart);
  *sequence* = ``i mod 2**16``; the payload starts with (token, i). Up to 65,536 packets per cycle
  (identifier, sequence) is unique by itself; beyond that the payload index tells packets apart,
  and the token rejects late replies from earlier cycles and other processes' packets.
- a reply counts when identifier, token, index and sequence agree, its source is the target, it
  is the first for that index, and it came within ``timeout`` of the send (monotonic clock; the
  send time is kept here, never trusted from the payload).
- an ICMP error (destination unreachable, time exceeded) quoting one of our requests settles
  that echo at once as failed, naming the reporting router, instead of waiting for the timeout.

``success`` = at least one echo answered: one lost echo is loss (``loss_ratio`` says so), not an outage.
Nothing here raises for the environment: a missing privilege, a disallowed address, a send error
are results with ``success=False`` and a ``detail``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Sequence

from govnet.probes.base import ProbeResult, Target
from govnet.probes.icmp.cycle import Cycle
from govnet.probes.icmp.packet import U32
from govnet.probes.icmp.settings import IcmpSettings
from govnet.probes.icmp.sock import NO_SOCKET, IcmpSocket, is_local, open_icmp_socket, pktinfo

__all__ = ["NOT_ALLOWED", "NO_SOCKET", "IcmpProbe", "IcmpSettings"]

log = logging.getLogger(__name__)

NOT_ALLOWED = "address not allowed"


class IcmpProbe:
    """Echo requests to many targets per cycle through one shared ICMP socket (see module doc)."""

    name = "icmp"

    def __init__(self, settings: IcmpSettings | None = None) -> None:
        """Open the socket now, not at the first cycle: a missing privilege shows (and is logged,
        once) when the daemon loads its config, and the socket belongs to the creator's namespace."""
        self.settings = settings or IcmpSettings()
        self._networks = [(int(n.network_address), int(n.netmask)) for n in self.settings.allowed_networks]
        self._verdicts: dict[str, int | str] = {}
        self._lock = asyncio.Lock()
        opened = open_icmp_socket(self.settings.socket, self.settings.ttl)
        self._socket: IcmpSocket | None = None
        self._problem = NO_SOCKET
        if isinstance(opened, str):  # logged once here; every cycle then reports it per target
            log.warning("icmp probe: %s; every target will fail", opened)
        else:
            self._socket = opened

    @property
    def identifier(self) -> int | None:
        """The ICMP identifier of this instance's echo requests (None without a socket)."""
        return self._socket.identifier if self._socket else None

    @property
    def raw(self) -> bool:
        """True on a raw socket, False on a datagram socket or without one."""
        return bool(self._socket and self._socket.raw)

    async def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
            self._problem = "probe closed"

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        async with self._lock:  # cycles of one instance never interleave on its socket
            return await self._run(list(targets), timeout)

    async def _run(self, targets: list[Target], timeout: float) -> list[ProbeResult]:
        deadline = time.monotonic() + max(timeout, 0.0)
        at = time.time()
        results: list[ProbeResult | None] = [None] * len(targets)
        plan: list[int] = []
        addresses: list[int] = []
        ancillary: list[list[tuple[int, int, bytes]] | None] = []
        sources: dict[str, list[tuple[int, int, bytes]] | str] = {}
        for j, target in enumerate(targets):
            verdict = self._address(target.address)
            extra: list[tuple[int, int, bytes]] | str | None = None
            if not isinstance(verdict, str) and target.source is not None:
                extra = sources.get(target.source)
                if extra is None:
                    extra = sources[target.source] = _source(target.source, self._socket)
                if isinstance(extra, str):
                    verdict = extra
            if not isinstance(verdict, str) and self._socket is None:
                verdict = self._problem
            if isinstance(verdict, str):
                results[j] = ProbeResult(self.name, target, False, verdict, at=at)
                continue
            plan.append(j)
            addresses.append(verdict)
            ancillary.append(extra if isinstance(extra, list) else None)
        if plan and self._socket is not None:
            planned = [targets[j] for j in plan]
            cycle = Cycle(self._socket, self.settings, planned, addresses, ancillary)
            for j, result in zip(plan, await cycle.run(deadline, at), strict=True):
                results[j] = result
        return [r for r in results if r is not None]

    def _address(self, address: str) -> int | str:
        """The target's address as an integer, or why it must not be probed (cached: cheap per cycle)."""
        verdict = self._verdicts.get(address)
        if verdict is None:
            try:
                value: int = U32.unpack(socket.inet_pton(socket.AF_INET, address))[0]
            except (OSError, TypeError):
                verdict = "not an IPv4 address"
            else:
                verdict = NOT_ALLOWED
                for network, mask in self._networks:
                    if value & mask == network:
                        verdict = value
                        break
            if len(self._verdicts) >= 100_000:
                self._verdicts.clear()
            self._verdicts[address] = verdict
        return verdict


def _source(source: str, home: IcmpSocket | None) -> list[tuple[int, int, bytes]] | str:
    try:
        socket.inet_pton(socket.AF_INET, source)
    except OSError:
        return f"source {source} is not an IPv4 address"
    return pktinfo(source) if is_local(source, home) else f"source {source} is not a local address"
