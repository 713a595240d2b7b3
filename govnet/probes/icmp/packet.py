"""ICMP echo codec: pure functions and precompiled structs for the ``icmp`` probe.

Kept apart from the socket and scheduling code so the wire format can be read, and tested
with doctests, on its own. Every echo request govnet sends carries, after the 8-byte ICMP
header, a 32-bit *cycle token* and a 32-bit *packet index*; the rest of the payload is zeros.
The (identifier, sequence) pair alone only has 32 bits of room (16 of which are taken by the
identifier), so the payload is the authoritative key and the sequence number is the index's low
16 bits (a quick pre-check, and the key of last resort when an ICMP error quotes only 8 bytes).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ECHO_REPLY = 0
DEST_UNREACH = 3
ECHO_REQUEST = 8
TIME_EXCEEDED = 11

HEADER = 8
"""ICMP header bytes (type, code, checksum, identifier, sequence)."""
KEY = 8
"""Payload bytes govnet needs: the cycle token and the packet index."""

ECHO = struct.Struct("!BBHHHII")
"""type, code, checksum, identifier, sequence, cycle token, packet index (16 bytes)."""
IP_ECHO = struct.Struct("!B11xI4xBBHHHII")
"""An IPv4 header without options (first byte 0x45) followed by ``ECHO``: the raw-socket fast path;
yields version/IHL, source address, then the ``ECHO`` fields."""
IP_HEADER = struct.Struct("!BxHxxxxxBxxII")
"""version/IHL, total length, protocol, source, destination."""
U32 = struct.Struct("!I")

_UNREACH = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    5: "source route failed",
    6: "destination network unknown",
    7: "destination host unknown",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    11: "network unreachable for TOS",
    12: "host unreachable for TOS",
    13: "communication administratively prohibited",
}
_EXCEEDED = {0: "TTL exceeded in transit", 1: "fragment reassembly time exceeded"}


def checksum(data: bytes | bytearray) -> int:
    """RFC 1071 Internet checksum (ones' complement of the ones' complement sum of 16-bit words).

    >>> hex(checksum(bytes.fromhex("0800000012340001")))
    '0xe5ca'
    >>> checksum(bytes.fromhex("0800e5ca12340001"))  # a packet with its checksum in place sums to 0
    0
    >>> checksum(b"\\x01")  # an odd byte is padded with a zero byte
    65279
    """
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class EchoBuilder:
    """Builds echo requests for one cycle into one reused buffer, checksum computed incrementally.

    Only the sequence number, the index and the checksum change between packets, so the
    checksum is the precomputed sum of the constant words plus three words: no per-packet loop
    over the payload, no per-packet allocation (the caller sends ``buffer`` right after ``build``).

    >>> b = EchoBuilder(identifier=0x1234, token=0xCAFEF00D, payload=56)
    >>> packet = bytes(b.build(70000))
    >>> len(packet), checksum(packet)
    (64, 0)
    >>> ECHO.unpack_from(packet)[3:]
    (4660, 4464, 3405705229, 70000)
    """

    __slots__ = ("_base", "_identifier", "_token", "buffer")

    def __init__(self, identifier: int, token: int, payload: int) -> None:
        if payload < KEY:
            raise ValueError(f"payload must be at least {KEY} bytes")
        self.buffer = bytearray(HEADER + payload)
        self._identifier = identifier
        self._token = token
        self._base = (ECHO_REQUEST << 8) + identifier + (token >> 16) + (token & 0xFFFF)

    def build(self, index: int) -> bytearray:
        """Fill the buffer with the echo request for packet ``index`` (sequence = index mod 2**16)."""
        seq = index & 0xFFFF
        total = self._base + 2 * seq + (index >> 16)  # seq is also the index's low word
        total = (total & 0xFFFF) + (total >> 16)
        total = (total & 0xFFFF) + (total >> 16)
        ECHO.pack_into(
            self.buffer, 0, ECHO_REQUEST, 0, ~total & 0xFFFF, self._identifier, seq, self._token, index
        )
        return self.buffer


@dataclass(frozen=True, slots=True)
class QuotedEcho:
    """An ICMP error that quotes one of our echo requests."""

    kind: int
    code: int
    reporter: int
    """Address (as an integer) of the router or host that sent the error."""
    destination: int
    """Destination of the quoted echo request (the target)."""
    identifier: int
    sequence: int
    token: int | None
    """Cycle token and index: None when the error quotes only 8 bytes of our packet (RFC 792)."""
    index: int | None


def parse_error(packet: bytes | bytearray, length: int) -> QuotedEcho | None:
    """Parse an IPv4 datagram holding an ICMP error; None unless it quotes an ICMP echo request.

    >>> inner = bytes.fromhex("4500005400004000400100000a0000017f000009") + bytes(
    ...     EchoBuilder(7, 9, 56).build(3))
    >>> outer = bytes.fromhex("45c0007000004000400100007f0000020a000001") + bytes([3, 1, 0, 0, 0, 0, 0, 0])
    >>> e = parse_error(outer + inner, len(outer + inner))
    >>> describe(e.kind, e.code), str_address(e.reporter), str_address(e.destination), e.identifier, e.index
    ('host unreachable', '127.0.0.2', '127.0.0.9', 7, 3)
    >>> parse_error(outer + inner[:28], 56).token is None
    True
    >>> parse_error(outer, len(outer)) is None
    True
    """
    if length < 20:
        return None
    vhl, _total, _proto, src, _dst = IP_HEADER.unpack_from(packet)
    at = (vhl & 0xF) * 4
    if length < at + HEADER + 20 or packet[at] not in (DEST_UNREACH, TIME_EXCEEDED):
        return None
    kind, code = packet[at], packet[at + 1]
    inner = at + HEADER
    ivhl, _itotal, iproto, _isrc, idst = IP_HEADER.unpack_from(packet, inner)
    quoted = inner + (ivhl & 0xF) * 4
    if iproto != 1 or length < quoted + HEADER or packet[quoted] != ECHO_REQUEST:
        return None
    token: int | None = None
    index: int | None = None
    if length >= quoted + ECHO.size:
        _t, _c, _s, ident, seq, token, index = ECHO.unpack_from(packet, quoted)
    else:
        _t, _c, _s, ident, seq = struct.unpack_from("!BBHHH", packet, quoted)
    return QuotedEcho(kind, code, src, idst, ident, seq, token, index)


def describe(kind: int, code: int) -> str:
    """Name an ICMP error the way an operator reads it.

    >>> describe(3, 1), describe(11, 0), describe(3, 99), describe(12, 0)
    ('host unreachable', 'TTL exceeded in transit', 'destination unreachable (code 99)', 'ICMP type 12 code 0')
    """
    if kind == DEST_UNREACH:
        return _UNREACH.get(code, f"destination unreachable (code {code})")
    if kind == TIME_EXCEEDED:
        return _EXCEEDED.get(code, f"time exceeded (code {code})")
    return f"ICMP type {kind} code {code}"


def str_address(value: int) -> str:
    """Dotted quad of an IPv4 address held as an integer.

    >>> str_address(0x7F000001)
    '127.0.0.1'
    """
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
