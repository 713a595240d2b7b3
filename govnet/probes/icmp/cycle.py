"""One cycle of the ``icmp`` probe: the paced sender, the reply drain, the per-packet bookkeeping.

The matching scheme is described in ``govnet.probes.icmp``. This module is the hot path: sends are
batched between pacing ticks into one reused buffer, the drain reads into one preallocated buffer
with precompiled structs, and per-packet state lives in flat lists indexed by packet index, so
10,000 targets x 3 echoes cost about what fping costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import struct
import time

from govnet.probes.base import ProbeResult, Target
from govnet.probes.icmp.packet import (
    DEST_UNREACH,
    ECHO,
    ECHO_REPLY,
    IP_ECHO,
    TIME_EXCEEDED,
    U32,
    EchoBuilder,
    QuotedEcho,
    describe,
    parse_error,
    str_address,
)
from govnet.probes.icmp.settings import IcmpSettings
from govnet.probes.icmp.sock import IP_RECVERR, SO_TIMESTAMPNS, IcmpSocket

STAMP = struct.Struct("qq")
ANCILLARY = socket.CMSG_SPACE(STAMP.size) + socket.CMSG_SPACE(64)
"""Room for the kernel's arrival stamp (struct timespec) of one datagram, and a spare."""


def arrival(ancdata: list[tuple[int, int, bytes]], skew: float, now: float) -> float:
    """When a datagram reached the socket, on the monotonic clock: its kernel stamp (wall clock)
    less ``skew`` (wall − monotonic). ``now`` (the read) when there is no stamp or the wall clock
    was stepped in between (a stamp before the echo could be sent or after the read)."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= STAMP.size:
            seconds, nanos = STAMP.unpack_from(data)
            at = seconds + nanos * 1e-9 - skew
            return at if at <= now else now
    return now


LATE = 0.05
"""Seconds without a read after which replies may have waited in the socket: time them by their
kernel arrival stamp, not by the read (a starved event loop must not turn them into losses)."""
BURST_SECONDS = 0.005
"""Pacing bucket depth: after a stall the probe catches up by at most 5 ms worth of packets."""
TICK = 0.002
"""Shortest pacing sleep: waking the event loop per packet costs more CPU than the pacing is worth."""
BATCH = 1024
"""Packets sent before yielding to the event loop, so other probes are never starved."""
UNSENT, SENT, ANSWERED, ERRORED, FAILED = range(5)
"""Per-packet state."""
_SEND_ERRORS = {
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.EPERM: "sending not permitted (firewall)",
    errno.EACCES: "sending not permitted",
}


class Cycle:
    """One probe cycle: the pacing sender, the reply drain and the per-packet bookkeeping."""

    def __init__(
        self,
        sock: IcmpSocket,
        settings: IcmpSettings,
        targets: list[Target],
        addresses: list[int],
        ancillary: list[list[tuple[int, int, bytes]] | None],
    ) -> None:
        self.sock, self.settings, self.targets = sock, settings, targets
        self.n = len(targets)
        self.total = self.n * settings.count
        self.ints = addresses
        self.sockaddrs = [(t.address, 0) for t in targets]
        self.ancillary = ancillary
        self.identifier = sock.identifier
        self.token = int.from_bytes(os.urandom(4), "big")
        self.builder = EchoBuilder(self.identifier if sock.raw else 0, self.token, settings.payload)
        self.state = bytearray(self.total)
        self.sent_at = [0.0] * self.total
        self.received = [0] * self.n
        self.rtt_sum = [0.0] * self.n
        self.failed: dict[int, int] = {}
        self.details: dict[int, str] = {}
        self.outstanding = 0
        self.next_index = 0
        self.last_sent = 0.0
        self.sending = True
        self.done: asyncio.Future[None] | None = None
        self.buffer = bytearray(65_536)
        self.buffers = [self.buffer]
        self.drained = time.monotonic()
        """When the socket was last read to the end (`_late`)."""

    async def run(self, deadline: float, at: float) -> list[ProbeResult]:
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        fd = self.sock.sock.fileno()
        self._discard_stale()
        loop.add_reader(fd, self.drain)
        try:
            await self._send(deadline)
            self.sending = False
            if self.outstanding:
                end = min(self.last_sent + self.settings.timeout, deadline)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.done, max(0.0, end - time.monotonic()))
                self.drain()
        finally:
            loop.remove_reader(fd)
        return self._results(at)

    async def _send(self, deadline: float) -> None:
        """Send every echo, paced by a token bucket (``rate``) and per-target spacing (``interval``)."""
        n, total, rate, interval = self.n, self.total, self.settings.rate, self.settings.echo_interval
        burst = max(1.0, rate * BURST_SECONDS)
        build, sendto, sendmsg = self.builder.build, self.sock.sock.sendto, self.sock.sock.sendmsg
        sockaddrs, ancillary, sent_at, state = self.sockaddrs, self.ancillary, self.sent_at, self.state
        monotonic = time.monotonic
        i = position = 0
        tokens, last = 1.0, monotonic()
        while i < total:
            now = monotonic()
            if now >= deadline:
                break
            if rate:
                tokens, last = min(burst, tokens + (now - last) * rate), now
            wait, batch_end = 0.0, min(total, i + BATCH)
            while i < batch_end:
                if rate and tokens < 1.0:
                    wait = max((1.0 - tokens) / rate, TICK)
                    break
                if i >= n and sent_at[i - n] + interval > now:
                    wait = sent_at[i - n] + interval - now
                    break
                packet = build(i)
                try:
                    extra = ancillary[position]
                    if extra is None:
                        sendto(packet, sockaddrs[position])
                    else:
                        sendmsg((packet,), extra, 0, sockaddrs[position])
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.ENOBUFS):  # send queue full: retry shortly
                        wait = 0.001
                        break
                    if not self.sock.raw and self._drain_errors():
                        continue  # an earlier echo's ICMP error surfaced on this send: read it, resend
                    state[i] = FAILED
                    self.failed[position] = self.failed.get(position, 0) + 1
                    self.details[position] = _SEND_ERRORS.get(exc.errno or 0, f"send failed: {exc.strerror}")
                else:
                    state[i] = SENT
                    self.outstanding += 1
                    self.last_sent = now
                sent_at[i] = now
                tokens -= 1.0
                i += 1
                position = position + 1 if position + 1 < n else 0
                now = monotonic()
                if not i & 63:
                    self.drain()
            self.next_index = i
            self.drain()
            await asyncio.sleep(wait)

    def drain(self) -> None:
        """Read every queued packet (event-loop reader callback; also called between send batches)."""
        if not self.sock.raw:
            self._drain_dgram()
            return
        recv_into, recvmsg_into, buffers, buffer, unpack = (
            self.sock.sock.recv_into,
            self.sock.sock.recvmsg_into,
            self.buffers,
            self.buffer,
            IP_ECHO.unpack_from,
        )
        monotonic, state, sent_at, ints = time.monotonic, self.state, self.sent_at, self.ints
        received, rtt_sum, limit = self.received, self.rtt_sum, self.settings.timeout
        identifier, token, total, n = self.identifier, self.token, self.total, self.n
        stamped, skew = self._late()
        ancdata: list[tuple[int, int, bytes]] = []
        answered = 0
        while True:
            try:
                if stamped:
                    length, ancdata, _flags, _address = recvmsg_into(buffers, ANCILLARY)
                else:
                    length = recv_into(buffer)
            except OSError:  # EAGAIN: drained
                break
            if buffer[0] == 0x45 and length >= 36:
                _vhl, source, kind, _code, _sum, ident, seq, tok, index = unpack(buffer)
            elif length >= 20 and length >= (buffer[0] & 15) * 4 + 16:
                source, (kind, _code, _sum, ident, seq, tok, index) = (
                    U32.unpack_from(buffer, 12)[0],
                    ECHO.unpack_from(buffer, (buffer[0] & 15) * 4),
                )
            else:
                continue
            if kind == ECHO_REPLY:
                if ident != identifier or tok != token or index >= total or index & 0xFFFF != seq:
                    continue
                position = index % n
                if state[index] != SENT or source != ints[position]:
                    continue
                rtt = (arrival(ancdata, skew, monotonic()) if stamped else monotonic()) - sent_at[index]
                if rtt < 0.0:  # the wall clock was stepped back in between: time the read instead
                    rtt = monotonic() - sent_at[index]
                if rtt <= limit:
                    state[index] = ANSWERED
                    received[position] += 1
                    rtt_sum[position] += rtt
                    answered += 1
            elif kind in (DEST_UNREACH, TIME_EXCEEDED):
                self._error(parse_error(buffer, length))
        self.drained = monotonic()
        if answered:
            self._settled(answered)

    def _late(self) -> tuple[bool, float]:
        """Whether this read comes late (the loop was away longer than ``LATE``), and the wall −
        monotonic skew. Late reads ask for the kernel's arrival stamps (a slower call): what
        queued up meanwhile is timed by when it arrived; reads that keep up time by the read."""
        now = time.monotonic()
        return now - self.drained > LATE, time.time() - now

    def _drain_dgram(self) -> None:
        """The datagram-socket drain: no IP header; the kernel already matched the identifier."""
        recvfrom_into, recvmsg_into, buffers, buffer = (
            self.sock.sock.recvfrom_into,
            self.sock.sock.recvmsg_into,
            self.buffers,
            self.buffer,
        )
        stamped, skew = self._late()
        ancdata: list[tuple[int, int, bytes]] = []
        while True:
            try:
                if stamped:
                    length, ancdata, _flags, (host, _port) = recvmsg_into(buffers, ANCILLARY)
                else:
                    length, (host, _port) = recvfrom_into(buffer)
            except BlockingIOError:
                break
            except OSError:  # an ICMP error is pending (IP_RECVERR): read the error queue
                if not self._drain_errors():
                    break
                continue
            if length < ECHO.size:
                continue
            kind, _code, _sum, _ident, seq, tok, index = ECHO.unpack_from(buffer)
            if kind != ECHO_REPLY or tok != self.token or index >= self.total or index & 0xFFFF != seq:
                continue
            position = index % self.n
            if self.state[index] != SENT or host != self.targets[position].address:
                continue
            rtt = (arrival(ancdata, skew, time.monotonic()) if stamped else time.monotonic()) - self.sent_at[
                index
            ]
            if rtt < 0.0:  # the wall clock was stepped back in between: time the read instead
                rtt = time.monotonic() - self.sent_at[index]
            if rtt <= self.settings.timeout:
                self.state[index] = ANSWERED
                self.received[position] += 1
                self.rtt_sum[position] += rtt
                self._settled()
        self.drained = time.monotonic()

    def _drain_errors(self) -> bool:
        """Read the datagram socket's error queue; each entry is an ICMP error about one echo."""
        got = False
        while True:
            try:
                data, ancdata, _flags, address = self.sock.sock.recvmsg(ECHO.size, 512, socket.MSG_ERRQUEUE)
            except OSError:
                return got
            got = True
            for level, kind, cdata in ancdata:
                if level != socket.IPPROTO_IP or kind != IP_RECVERR or len(cdata) < 24 or cdata[4] != 2:
                    continue  # not an ICMP-originated error (SO_EE_ORIGIN_ICMP)
                if len(data) < ECHO.size:
                    continue
                _t, _c, _s, ident, seq, tok, index = ECHO.unpack_from(data)
                destination = U32.unpack(socket.inet_aton(address[0]))[0]
                reporter = U32.unpack_from(cdata, 20)[0]  # SO_EE_OFFENDER: sockaddr_in after the struct
                self._error(QuotedEcho(cdata[5], cdata[6], reporter, destination, ident, seq, tok, index))

    def _error(self, quoted: QuotedEcho | None) -> None:
        """Settle the echo an ICMP error quotes, as failed, with the reporting router in the detail."""
        if quoted is None or quoted.identifier != self.identifier:
            return
        index = quoted.index
        if quoted.token is None:  # only 8 bytes quoted: find the pending echo by sequence and target
            index = next(
                (
                    i
                    for i in range(quoted.sequence, self.total, 0x10000)
                    if self.state[i] == SENT and self.ints[i % self.n] == quoted.destination
                ),
                None,
            )
        elif quoted.token != self.token:
            return
        if index is None or index >= self.total or index & 0xFFFF != quoted.sequence:
            return
        position = index % self.n
        if self.state[index] != SENT or self.ints[position] != quoted.destination:
            return
        self.state[index] = ERRORED
        self.details[position] = f"{describe(quoted.kind, quoted.code)} from {str_address(quoted.reporter)}"
        self._settled()

    def _settled(self, count: int = 1) -> None:
        self.outstanding -= count
        if not self.outstanding and not self.sending and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def _discard_stale(self) -> None:
        """Drop what queued up between cycles (late replies of the last one): it can only mislead."""
        for _ in range(100_000):
            try:
                self.sock.sock.recv_into(self.buffer)
            except BlockingIOError:
                break
            except OSError:
                if self.sock.raw or not self._drain_errors():
                    break

    def _results(self, at: float) -> list[ProbeResult]:
        count, n, end, limit = self.settings.count, self.n, self.next_index, self.settings.timeout
        results = []
        for position, target in enumerate(self.targets):
            attempted = min(count, (end - position + n - 1) // n) if end > position else 0
            received = self.received[position]
            problem = self.details.get(position, "")
            if not attempted:
                results.append(ProbeResult("icmp", target, False, "not sent before the deadline", at=at))
                continue
            if received == attempted:
                detail = ""
            elif received:
                detail = f"{received}/{attempted} answered" + (f"; {problem}" if problem else "")
            else:
                detail = problem or f"no answer within {limit:g} s"
            results.append(
                ProbeResult(
                    "icmp",
                    target,
                    received > 0,
                    detail,
                    rtt_seconds=self.rtt_sum[position] / received if received else None,
                    loss_ratio=(attempted - received) / attempted,
                    sent=attempted - self.failed.get(position, 0),
                    received=received,
                    at=at,
                )
            )
        return results
