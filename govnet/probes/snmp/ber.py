"""Just enough BER to speak SNMPv2c GET / GETBULK without building ASN.1 objects.

Why this exists: pysnmp's high-level API spends ~1.4 ms of CPU per 5-OID GET building and
walking pyasn1 objects, which caps one core at ~700 requests/s. An SNMPv2c request is a fixed
byte string except for its 4-byte request-id, so the probe encodes each target's request once
(``RequestTemplate``) and patches the id per send; responses are read by a small decoder that
only understands what a GET/GETBULK response may contain. Tests check both directions
byte-for-byte against pysnmp's own codec. SNMPv3 (USM authentication and privacy) stays with
the pysnmp engine: see ``govnet.probes.snmp.engine``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

Oid = tuple[int, ...]

GET = 0xA0
GETBULK = 0xA5
RESPONSE = 0xA2
REPORT = 0xA8

FIRST_REQUEST_ID = 0x00800000
"""Request ids stay in [2**23, 2**31): their minimal BER encoding is always 4 bytes, so a
prepared request can be patched in place."""
LAST_REQUEST_ID = 0x7FFFFFFF

_UNSIGNED = frozenset((0x41, 0x42, 0x43, 0x46, 0x47))  # Counter32, Gauge32, TimeTicks, Counter64, UInteger32
INTEGER_TAGS = _UNSIGNED | {0x02}
OCTET_TAGS = frozenset((0x04, 0x40, 0x44))  # OCTET STRING, IpAddress, Opaque


class Missing(enum.Enum):
    """The SNMPv2 exceptions an agent puts in place of a value."""

    NO_SUCH_OBJECT = 0x80
    NO_SUCH_INSTANCE = 0x81
    END_OF_MIB_VIEW = 0x82


Value = int | bytes | Oid | Missing | None
VarBind = tuple[Oid, Value]


class BerError(ValueError):
    """A datagram that is not a well-formed SNMP message: dropped, never fatal."""


def parse_oid(text: str) -> Oid:
    """Dotted text to a tuple.

    >>> parse_oid(".1.3.6.1.2.1.1.3.0")
    (1, 3, 6, 1, 2, 1, 1, 3, 0)
    """
    return tuple(int(part) for part in text.strip(".").split("."))


def format_oid(oid: Oid) -> str:
    """Tuple to dotted text.

    >>> format_oid((1, 3, 6, 1))
    '1.3.6.1'
    """
    return ".".join(map(str, oid))


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def encode_integer(value: int) -> bytes:
    """Minimal two's-complement INTEGER.

    >>> encode_integer(0).hex(), encode_integer(128).hex(), encode_integer(-1).hex()
    ('020100', '02020080', '0201ff')
    """
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return _tlv(0x02, value.to_bytes(size, "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    """OBJECT IDENTIFIER TLV.

    >>> encode_oid((1, 3, 6, 1, 2, 1, 1, 3, 0)).hex()
    '06082b06010201010300'
    """
    if len(oid) < 2:
        raise ValueError(f"OID too short: {oid}")
    arcs = [oid[0] * 40 + oid[1], *oid[2:]]
    out = bytearray()
    for arc in arcs:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out.extend(reversed(chunk))
    return _tlv(0x06, bytes(out))


@dataclass(frozen=True, slots=True)
class RequestTemplate:
    """An encoded request whose 4-byte request-id goes between ``prefix`` and ``suffix``."""

    prefix: bytes
    suffix: bytes

    def packet(self, request_id: int) -> bytes:
        return self.prefix + request_id.to_bytes(4, "big") + self.suffix


def request_template(
    community: bytes, pdu_type: int, oids: Sequence[Oid], non_repeaters: int = 0, max_repetitions: int = 0
) -> RequestTemplate:
    """Encode a v2c GET (``pdu_type=GET``) or GETBULK request once, request-id left open.

    For GETBULK the two integer fields after the id are non-repeaters and max-repetitions.
    """
    varbinds = b"".join(_tlv(0x30, encode_oid(oid) + b"\x05\x00") for oid in oids)
    second, third = (non_repeaters, max_repetitions) if pdu_type == GETBULK else (0, 0)
    after_id = encode_integer(second) + encode_integer(third) + _tlv(0x30, varbinds)
    placeholder = b"\x02\x04\x00\x80\x00\x00"
    pdu = _tlv(pdu_type, placeholder + after_id)
    message = _tlv(0x30, encode_integer(1) + _tlv(0x04, community) + pdu)
    cut = len(message) - len(after_id) - 4
    return RequestTemplate(message[:cut], message[cut + 4 :])


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded v2c response (or report) PDU."""

    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]
    community: bytes = b""
    pdu_type: int = RESPONSE


def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``pos``; raises BerError when it overruns."""
    if pos + 2 > end:
        raise BerError("truncated TLV")
    tag = data[pos]
    size = data[pos + 1]
    pos += 2
    if size & 0x80:
        count = size & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise BerError("bad length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + size > end:
        raise BerError("TLV overruns its container")
    return tag, pos, pos + size


def decode_oid(content: bytes) -> Oid:
    """OID from TLV content (no tag/length).

    >>> decode_oid(bytes.fromhex("2b06010201010300"))
    (1, 3, 6, 1, 2, 1, 1, 3, 0)
    """
    if not content:
        raise BerError("empty OID")
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if content[-1] & 0x80:
        raise BerError("unterminated OID arc")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return head + tuple(arcs[1:])


def _integer(data: bytes, pos: int, end: int) -> tuple[int, int]:
    tag, start, stop = _header(data, pos, end)
    if tag != 0x02 or start == stop:
        raise BerError("expected INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True), stop


_OID_MEMO: dict[bytes, Oid] = {}
"""Steady-state answers repeat the same few OIDs for every unit: decode each encoding once."""
_OID_MEMO_SIZE = 50_000


def decode_response(data: bytes) -> Response:
    """Decode an SNMPv1/v2c message carrying a Response or Report PDU; BerError otherwise."""
    end = len(data)
    tag, pos, end = _header(data, 0, end)
    if tag != 0x30:
        raise BerError("not an SNMP message")
    _version, pos = _integer(data, pos, end)
    tag, start, pos = _header(data, pos, end)
    if tag != 0x04:
        raise BerError("expected community")
    community = data[start:pos]
    pdu_type, pos, end = _header(data, pos, end)
    if pdu_type not in (RESPONSE, REPORT):
        raise BerError(f"unexpected PDU type 0x{pdu_type:02x}")
    request_id, pos = _integer(data, pos, end)
    error_status, pos = _integer(data, pos, end)
    error_index, pos = _integer(data, pos, end)
    tag, pos, end = _header(data, pos, end)
    if tag != 0x30:
        raise BerError("expected varbind list")
    varbinds: list[VarBind] = []
    while pos < end:
        tag, pos, vb_end = _header(data, pos, end)
        if tag != 0x30:
            raise BerError("expected varbind")
        tag, start, pos = _header(data, pos, vb_end)
        if tag != 0x06:
            raise BerError("expected OID")
        raw = data[start:pos]
        oid = _OID_MEMO.get(raw)
        if oid is None:
            oid = decode_oid(raw)
            if len(_OID_MEMO) >= _OID_MEMO_SIZE:
                _OID_MEMO.clear()
            _OID_MEMO[raw] = oid
        tag, start, pos = _header(data, pos, vb_end)
        content = data[start:pos]
        value: Value
        if tag in _UNSIGNED:
            value = int.from_bytes(content, "big")
        elif tag in OCTET_TAGS:
            value = content
        elif tag == 0x02:
            value = int.from_bytes(content, "big", signed=True)
        elif tag == 0x06:
            value = decode_oid(content)
        elif tag == 0x05:
            value = None
        elif 0x80 <= tag <= 0x82:
            value = Missing(tag)
        else:
            raise BerError(f"unknown value tag 0x{tag:02x}")
        varbinds.append((oid, value))
        pos = vb_end
    return Response(request_id, error_status, error_index, varbinds, community, pdu_type)
