"""Opening the one kernel ICMP socket the ``icmp`` probe shares across all its targets.

A raw socket (CAP_NET_RAW) is preferred: it sees ICMP errors from routers as ordinary packets and
lets govnet choose its identifier. Without the capability, an unprivileged ICMP datagram socket
("ping socket", allowed by ``net.ipv4.ping_group_range``) works too: the kernel then picks the
identifier, demultiplexes replies to us and reports ICMP errors through the error queue
(``IP_RECVERR``). Neither is possible: the caller gets the reason as text, never an exception,
because a missing privilege is a fact about the host, not a bug.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import random
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SOL_RAW = 255
ICMP_FILTER = 1
IP_PKTINFO = 8
IP_RECVERR = 11
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
RCVBUF = 8 << 20
"""Receive buffer asked for: a burst of replies at ~110 k packets/s must never overflow it."""

NO_SOCKET = "no ICMP socket: needs CAP_NET_RAW or ping_group_range"

_KEEP = ~((1 << 0) | (1 << 3) | (1 << 11)) & 0xFFFFFFFF
"""ICMP_FILTER mask of types the kernel drops before queueing (all but echo reply, unreachable,
time exceeded): a raw socket would otherwise also queue our own echo requests on loopback."""

_in_use: set[int] = set()
"""Identifiers held by open raw sockets of this process: two probe instances never share one."""
_random = random.SystemRandom()

SIOCGSKNS = 0x894C
"""ioctl: a descriptor of the network namespace a socket belongs to."""
CLONE_NEWNET = 0x40000000


def current_namespace() -> int:
    """Inode of the calling thread's network namespace."""
    return os.stat("/proc/thread-self/ns/net").st_ino


@dataclass(slots=True)
class IcmpSocket:
    """An open, non-blocking ICMP socket and the identifier its echo requests carry."""

    sock: socket.socket
    raw: bool
    identifier: int
    namespace: int = field(default_factory=current_namespace)
    """Inode of the network namespace the socket was opened in (see `is_local`)."""
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.raw:
            _in_use.discard(self.identifier)
        self.sock.close()


def open_icmp_socket(kind: str, ttl: int) -> IcmpSocket | str:
    """Open a raw (``kind`` "raw"), datagram ("dgram") or the best possible ("auto") ICMP socket.

    Returns the socket, or the reason none could be opened (``NO_SOCKET`` plus the kernel's words).
    """
    errors: list[str] = []
    if kind in ("auto", "raw"):
        try:
            return _open_raw(ttl)
        except OSError as exc:
            errors.append(f"raw: {exc.strerror or exc}")
    if kind in ("auto", "dgram"):
        try:
            return _open_dgram(ttl)
        except OSError as exc:
            errors.append(f"dgram: {exc.strerror or exc}")
    return f"{NO_SOCKET} ({'; '.join(errors)})"


def _open_raw(ttl: int) -> IcmpSocket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        identifier = _random.randrange(1, 0x10000)
        while identifier in _in_use:
            identifier = _random.randrange(1, 0x10000)
        sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", _KEEP))
        _attach_identifier_filter(sock, identifier)
        _common(sock, ttl)
    except OSError:
        sock.close()
        raise
    _in_use.add(identifier)
    return IcmpSocket(sock, raw=True, identifier=identifier)


def _open_dgram(ttl: int) -> IcmpSocket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    try:
        sock.bind(("0.0.0.0", 0))  # noqa: S104 - the "port" of a ping socket is its identifier
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        _common(sock, ttl)
    except OSError:
        sock.close()
        raise
    return IcmpSocket(sock, raw=False, identifier=sock.getsockname()[1])


SO_TIMESTAMPNS = 35
"""Linux: the kernel stamps each datagram with the time it arrived (CLOCK_REALTIME, nanoseconds),
handed over as ancillary data (SCM_TIMESTAMPNS, same number) with ``recvmsg``."""


def _common(sock: socket.socket, ttl: int) -> None:
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    # replies are timed by their arrival, not by when a busy event loop gets to read them
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except PermissionError:  # needs CAP_NET_ADMIN; plain SO_RCVBUF is capped by net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.setblocking(False)


def _attach_identifier_filter(sock: socket.socket, identifier: int) -> None:
    """Let the kernel drop echo replies meant for other identifiers (other pings, other probes).

    A raw ICMP socket receives every ICMP packet the host gets; on a busy host that is wasted
    wake-ups and buffer space. Classic BPF, run on the IP datagram: keep echo replies carrying
    ``identifier`` and all destination-unreachable / time-exceeded errors (the quoted packet is
    checked in Python). Without the filter everything still works, only slower: best effort.
    """
    program = [
        (0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)       X = IP header length
        (0x50, 0, 0, 0),  # ldb [x+0]              A = ICMP type
        (0x15, 0, 2, 0),  # jeq #0 (echo reply), else to 5
        (0x48, 0, 0, 4),  # ldh [x+4]              A = identifier
        (0x15, 3, 2, identifier),  # jeq #identifier: accept (8), else drop (7)
        (0x15, 2, 0, 3),  # jeq #3 (destination unreachable): accept
        (0x15, 1, 0, 11),  # jeq #11 (time exceeded): accept
        (0x06, 0, 0, 0),  # ret #0                 drop
        (0x06, 0, 0, 0xFFFF),  # ret #65535         accept
    ]
    code = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = struct.pack("HP", len(program), ctypes.addressof(buffer))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as exc:
        log.debug("icmp: no BPF identifier filter (%s); filtering in Python only", exc)


def pktinfo(source: str) -> list[tuple[int, int, bytes]]:
    """Ancillary data for ``sendmsg`` choosing the source address (``in_pktinfo.ipi_spec_dst``).

    One socket serves every source: the kernel routes each datagram as if sent from ``source``
    (e.g. a party-VRF address for isolation probes) without a socket bound per address.

    >>> pktinfo("127.0.0.5")[0][2].hex()
    '000000007f00000500000000'
    """
    data = struct.pack("@i4s4s", 0, socket.inet_aton(source), bytes(4))
    return [(socket.IPPROTO_IP, IP_PKTINFO, data)]


def is_local(source: str, home: IcmpSocket | None = None) -> bool:
    """True when ``source`` is an address of this host (network namespace), so it can be sent from.

    ``home`` is the socket that will send: a probe opened inside another namespace (an isolation
    vantage) is run from the daemon's thread, whose own namespace would give the wrong answer, so
    the question is then asked in the socket's namespace.

    >>> is_local("127.0.0.9"), is_local("198.51.100.254")
    (True, False)
    """
    if home is not None and home.namespace != current_namespace():
        return _in_namespace_of(home.sock, lambda: is_local(source))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((source, 0))
        except OSError:
            return False
    return True


def _in_namespace_of(sock: socket.socket, check: Callable[[], bool]) -> bool:
    """Run ``check`` in a throw-away thread joined to ``sock``'s namespace; False if it cannot join."""
    answer: list[bool] = []
    try:
        namespace = fcntl.ioctl(sock.fileno(), SIOCGSKNS)
    except OSError:
        return False

    def joined() -> None:
        if ctypes.CDLL(None, use_errno=True).setns(namespace, CLONE_NEWNET) == 0:
            answer.append(check())

    try:
        thread = threading.Thread(target=joined, name="icmp-source-check")
        thread.start()
        thread.join()
    finally:
        os.close(namespace)
    return bool(answer and answer[0])
