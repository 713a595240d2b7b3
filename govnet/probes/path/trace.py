"""The blocking half of path localisation: craft TTL-limited echoes with scapy, collect the answers.

Runs in a worker thread, in whatever network namespace that thread has joined: the sockets and
the source-address choice belong to that namespace. scapy's own routing table (read once, at
import, from the importing thread's namespace) is never consulted: the source is chosen by the
kernel (a connected UDP socket, which sends nothing) and the packets go out through a raw IP
socket the kernel routes. The receiving packet socket gets a kernel filter (ICMP to our source
only) so a busy host does not make scapy dissect unrelated traffic.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import random
import socket
import struct
from dataclasses import dataclass
from typing import Any

from govnet.probes.icmp.packet import DEST_UNREACH, ECHO_REPLY, TIME_EXCEEDED, describe

SO_ATTACH_FILTER = 26
SKF_NET_OFF = -0x100000
"""Classic BPF: offsets relative to the network header, whatever the link layer."""


@dataclass(frozen=True, slots=True)
class Hop:
    """What came back for the echo sent with TTL ``number``."""

    number: int
    address: str | None
    """Who answered: a router (time exceeded, unreachable) or the destination; None: nobody."""
    rtt_seconds: float | None
    answer: str
    """``TTL exceeded in transit``, ``echo reply``, an unreachable kind (``host unreachable``…), or ``""``."""
    final: bool = False
    """The path ends here: an echo reply or an unreachable (nothing beyond is worth waiting for)."""


def preload() -> None:
    """Import scapy (~0.3 s, once) in the caller's namespace, so its import-time view of the
    interfaces never depends on which vantage happened to localise first."""
    import scapy.layers.inet  # noqa: PLC0415
    import scapy.supersocket  # noqa: PLC0415, F401


def trace(
    destination: str, source: str | None, max_hops: int, timeout: float, spacing: float = 0.0
) -> tuple[str | None, list[Hop], str]:
    """Send echo requests with TTL 1..``max_hops``, ``spacing`` s apart; return (source used, hops, problem).

    ``problem`` is "" when the probes were sent (whatever came back), else why they were not.
    """
    chosen = _source(destination, source)
    if chosen.startswith("!"):
        return source, [], chosen[1:]
    from scapy.layers.inet import ICMP, IP  # noqa: PLC0415 - scapy costs ~0.3 s and ~40 MB: only when used
    from scapy.supersocket import L3RawSocket  # noqa: PLC0415

    identifier = random.randrange(1, 0x10000)  # noqa: S311 - tells our echoes apart, not a secret
    try:
        sock = L3RawSocket()
    except OSError as exc:
        return chosen, [], f"no raw socket for path localisation ({exc.strerror or exc}): needs CAP_NET_RAW"
    try:
        _attach_filter(sock.ins, chosen)
        packets = [
            IP(src=chosen, dst=destination, ttl=t) / ICMP(id=identifier, seq=t)
            for t in range(1, max_hops + 1)
        ]
        seen = _Progress(identifier)
        answered, _unanswered = sock.sr(
            packets, timeout=timeout, inter=spacing, verbose=0, stop_filter=seen.done
        )
    finally:
        sock.close()
    hops: dict[int, Hop] = {}
    for sent, got in answered:
        kind, code = int(got[ICMP].type), int(got[ICMP].code)
        answer = "echo reply" if kind == ECHO_REPLY else describe(kind, code)
        rtt = max(0.0, float(got.time) - float(sent.sent_time)) if sent.sent_time else None
        hops[int(sent.ttl)] = Hop(
            int(sent.ttl), str(got.src), rtt, answer, kind in (ECHO_REPLY, DEST_UNREACH)
        )
    top = max(hops, default=0)
    return chosen, [hops.get(n, Hop(n, None, None, "")) for n in range(1, top + 1)], ""


class _Progress:
    """scapy ``stop_filter``: stop once the path's end and every TTL below it have answered.

    Without it every localisation would wait the full timeout for TTLs beyond the end that a
    rate-limited router never answers (Linux sends ~6 ICMP errors per peer, then 1 a second).
    """

    def __init__(self, identifier: int) -> None:
        self.identifier = identifier
        self.answered: set[int] = set()
        self.end: int | None = None

    def done(self, packet: Any) -> bool:
        from scapy.layers.inet import ICMP, ICMPerror  # noqa: PLC0415

        if not packet.haslayer(ICMP):
            return False
        kind = int(packet[ICMP].type)
        if kind == ECHO_REPLY and int(packet[ICMP].id) == self.identifier:
            ttl = int(packet[ICMP].seq)
        elif kind in (DEST_UNREACH, TIME_EXCEEDED) and packet.haslayer(ICMPerror):
            if int(packet[ICMPerror].id) != self.identifier:
                return False
            ttl = int(packet[ICMPerror].seq)
        else:
            return False
        self.answered.add(ttl)
        if kind != TIME_EXCEEDED:
            self.end = ttl if self.end is None else min(self.end, ttl)
        return self.end is not None and all(t in self.answered for t in range(1, self.end + 1))


def _source(destination: str, source: str | None) -> str:
    """The source to send from (checked local), or ``!`` + why there is none.

    >>> _source("127.0.0.8", None), _source("127.0.0.8", "127.0.0.3"), _source("127.0.0.8", "198.51.100.9")
    ('127.0.0.1', '127.0.0.3', '!source 198.51.100.9 is not a local address')
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        try:
            if source is not None:
                udp.bind((source, 0))
            udp.connect((destination, 9))  # a route lookup; a UDP connect sends nothing
        except OSError as exc:
            if source is not None and exc.errno == errno.EADDRNOTAVAIL:
                return f"!source {source} is not a local address"
            return f"!no route to {destination} ({exc.strerror or exc})"
        chosen: str = udp.getsockname()[0]
    return chosen


def _attach_filter(sock: socket.socket, source: str) -> None:
    """Keep only ICMP addressed to ``source`` (best effort: without it scapy just sees more)."""
    (address,) = struct.unpack("!I", socket.inet_aton(source))
    program = [
        (0x30, 0, 0, (SKF_NET_OFF + 9) & 0xFFFFFFFF),  # ldb [net+9]    protocol
        (0x15, 0, 3, socket.IPPROTO_ICMP),  # jeq #1, else drop
        (0x20, 0, 0, (SKF_NET_OFF + 16) & 0xFFFFFFFF),  # ld [net+16]    destination
        (0x15, 0, 1, address),  # jeq #source, else drop
        (0x06, 0, 0, 0xFFFF),  # ret #65535    accept
        (0x06, 0, 0, 0),  # ret #0        drop
    ]
    code = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(code, len(code))
    with contextlib.suppress(OSError):
        sock.setsockopt(
            socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HP", len(program), ctypes.addressof(buffer))
        )
