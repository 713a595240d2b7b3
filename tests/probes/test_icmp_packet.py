"""The icmp probe's pure parts: the echo codec, error parsing, the 8-byte-quote fallback, settings."""

from __future__ import annotations

import socket
import struct

from hypothesis import given
from hypothesis import strategies as st

from govnet.probes.base import Target
from govnet.probes.icmp.cycle import ERRORED, SENT, Cycle
from govnet.probes.icmp.packet import ECHO, EchoBuilder, QuotedEcho, checksum, parse_error
from govnet.probes.icmp.settings import IcmpSettings
from govnet.probes.icmp.sock import IcmpSocket


@given(
    identifier=st.integers(0, 0xFFFF),
    token=st.integers(0, 0xFFFFFFFF),
    index=st.integers(0, 0xFFFFFFFF),
    payload=st.integers(8, 1472),
)
def test_incremental_checksum_equals_the_full_one(
    identifier: int, token: int, index: int, payload: int
) -> None:
    packet = bytes(EchoBuilder(identifier, token, payload).build(index))
    assert len(packet) == 8 + payload
    assert checksum(packet) == 0
    assert ECHO.unpack_from(packet) == (
        8,
        0,
        ECHO.unpack_from(packet)[2],
        identifier,
        index & 0xFFFF,
        token,
        index,
    )


def ip_header(source: str, destination: str, total: int) -> bytes:
    return struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        total,
        0,
        0,
        64,
        1,
        0,
        socket.inet_aton(source),
        socket.inet_aton(destination),
    )


def test_time_exceeded_quoting_the_whole_echo_is_parsed() -> None:
    echo = bytes(EchoBuilder(0x4242, 0xDEADBEEF, 56).build(70_001))
    inner = ip_header("198.18.0.1", "198.18.203.1", 20 + len(echo)) + echo
    outer = ip_header("198.18.0.2", "198.18.0.1", 28 + len(inner)) + bytes([11, 0, 0, 0, 0, 0, 0, 0]) + inner
    quoted = parse_error(outer, len(outer))
    assert quoted == QuotedEcho(11, 0, 0xC6120002, 0xC612CB01, 0x4242, 70_001 & 0xFFFF, 0xDEADBEEF, 70_001)


def test_an_error_not_about_an_echo_request_is_ignored() -> None:
    inner = bytearray(ip_header("198.18.0.1", "198.18.203.1", 28) + bytes(8))
    inner[9] = 17  # UDP
    outer = ip_header("198.18.0.2", "198.18.0.1", 56) + bytes([3, 3, 0, 0, 0, 0, 0, 0]) + bytes(inner)
    assert parse_error(outer, len(outer)) is None


def test_an_error_quoting_only_8_bytes_is_matched_by_sequence_and_destination() -> None:
    # RFC 792 routers quote only 8 bytes of our packet: no token, no index. The pending echo with
    # that sequence number to that destination is the one (10 targets x 3: index 13 = target 3).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stand_in:
        sock = IcmpSocket(stand_in, raw=True, identifier=0x4242)
        targets = [Target(f"u{i}", "intranet", f"127.0.0.{i + 1}") for i in range(10)]
        addresses = [0x7F000001 + i for i in range(10)]
        cycle = Cycle(sock, IcmpSettings(), targets, addresses, [None] * 10)
        for index in range(30):
            cycle.state[index] = SENT
        cycle.outstanding = 30
        cycle._error(QuotedEcho(3, 1, 0xC6120002, 0x7F000004, 0x4242, 13, None, None))
        cycle._error(QuotedEcho(3, 1, 0xC6120002, 0x7F000005, 0x4242, 13, None, None))  # wrong target
        cycle._error(QuotedEcho(3, 1, 0xC6120002, 0x7F000004, 0x4343, 13, None, None))  # not ours
        cycle._error(QuotedEcho(3, 1, 0xC6120002, 0x7F000004, 0x4242, 13, cycle.token ^ 1, 13))  # old cycle
        assert [i for i in range(30) if cycle.state[i] == ERRORED] == [13]
        assert cycle.details == {3: "host unreachable from 198.18.0.2"}
        assert cycle.outstanding == 29
