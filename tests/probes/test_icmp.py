"""The icmp probe against the real kernel ICMP: loopback (127/8) and network namespaces made here.

Nothing leaves the machine: targets are 127.0.0.0/8, or 198.18.0.0/15 inside two namespaces this
module creates (and deletes), linked by a veth pair and with no route out. A raw listening socket
checks what actually went on the wire (loopback delivery is synchronous with ``sendto``, so when
a cycle returns, every packet it sent is already queued on the listener).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from govnet.errors import ConfigError
from govnet.probes.base import ProbeResult, Target
from govnet.probes.icmp.cycle import ANCILLARY, arrival
from govnet.probes.icmp.probe import NOT_ALLOWED, IcmpProbe, IcmpSettings
from govnet.probes.icmp.sock import SO_TIMESTAMPNS
from govnet.probes.registry import default_kinds
from tests.helpers import need

LAB = ("198.18.0.0/15", "127.0.0.0/8")
ANSWERS = "198.18.200.1"  # an address of namespace B: it answers
UNREACHABLE = "198.18.201.1"  # B routes it `unreachable`: B answers with ICMP host unreachable
BLACKHOLE = "198.18.202.1"  # B drops it silently: a timeout
FORWARDED = "198.18.203.1"  # B forwards it (to a veth nobody answers on): TTL 1 expires at B
LOCAL_UNREACHABLE = "198.18.100.1"  # A itself routes it `unreachable`: sendto fails
NO_ROUTE = "198.19.255.1"  # A has no route at all: sendto fails
ROUTER = "198.18.0.2"


def raw_socket_allowed() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except PermissionError:
        return False
    return True


@pytest.fixture
def raw() -> None:
    need(raw_socket_allowed(), "needs CAP_NET_RAW for a raw ICMP socket (run as root)")


def targets(addresses: list[str]) -> list[Target]:
    return [Target(f"u{i}", "intranet", a) for i, a in enumerate(addresses)]


def run(probe: IcmpProbe, tgts: list[Target], timeout: float = 10.0) -> list[ProbeResult]:
    return asyncio.run(probe.run(tgts, timeout))


def cycle(tgts: list[Target], budget: float = 10.0, **settings: object) -> list[ProbeResult]:
    """One cycle of a fresh probe with ``settings``; ``budget`` is the run's own timeout."""

    async def go() -> list[ProbeResult]:
        probe = IcmpProbe(IcmpSettings.parse(settings))
        try:
            return await probe.run(tgts, budget)
        finally:
            await probe.close()

    return asyncio.run(go())


@dataclass(frozen=True)
class Seen:
    source: str
    destination: str
    kind: int
    identifier: int
    sequence: int


class Listener:
    """A second raw socket: every ICMP packet delivered on this host's (namespace's) stack."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE: never drop here
        except PermissionError:  # without CAP_NET_ADMIN: as much as net.core.rmem_max allows
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        self.sock.setblocking(False)

    def packets(self) -> list[Seen]:
        seen: list[Seen] = []
        while True:
            try:
                data = self.sock.recv(65_536)
            except BlockingIOError:
                return seen
            ihl = (data[0] & 15) * 4
            kind, _code, _sum, ident, seq = struct.unpack_from("!BBHHH", data, ihl)
            seen.append(Seen(socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20]), kind, ident, seq))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener(raw: None) -> Iterator[Listener]:
    heard = Listener()
    yield heard
    heard.close()


# --- network namespaces ------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


@contextmanager
def inside(namespace: str) -> Iterator[None]:
    """Run the body (socket creation included) in ``namespace``, then come home."""
    with open("/proc/thread-self/ns/net") as home, open(f"/run/netns/{namespace}") as there:
        if _libc.setns(there.fileno(), CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns")
        try:
            yield
        finally:
            if _libc.setns(home.fileno(), CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def routed() -> Iterator[str]:
    """Namespace A (the prober, 198.18.0.1) and router B (198.18.0.2) with one veth between them.

    B answers for ``ANSWERS``, returns host unreachable for ``UNREACHABLE``, drops ``BLACKHOLE``
    and forwards ``FORWARDED``. A routes 198.18.192.0/18 via B, ``LOCAL_UNREACHABLE`` nowhere, and
    has no other route: nothing can leave. Yields A's name.
    """
    need(os.geteuid() == 0 and shutil.which("ip") is not None, "needs root and iproute2 for namespaces")
    a, b = f"gvicmp{os.getpid()}a", f"gvicmp{os.getpid()}b"
    try:
        ip("netns", "add", a)
        ip("netns", "add", b)
        ip("-n", a, "link", "set", "lo", "up")
        ip("-n", b, "link", "set", "lo", "up")
        ip("-n", a, "link", "add", "a0", "type", "veth", "peer", "name", "b0", "netns", b)
        ip("-n", a, "addr", "add", "198.18.0.1/30", "dev", "a0")
        ip("-n", b, "addr", "add", "198.18.0.2/30", "dev", "b0")
        ip("-n", a, "link", "set", "a0", "up")
        ip("-n", b, "link", "set", "b0", "up")
        ip("-n", a, "route", "add", "198.18.192.0/18", "via", ROUTER)
        ip("-n", a, "route", "add", "unreachable", f"{LOCAL_UNREACHABLE}/32")
        ip("-n", b, "addr", "add", f"{ANSWERS}/32", "dev", "lo")
        ip("-n", b, "route", "add", "unreachable", "198.18.201.0/24")
        ip("-n", b, "route", "add", "blackhole", "198.18.202.0/24")
        ip("-n", b, "link", "add", "c0", "type", "veth", "peer", "name", "c1")
        ip("-n", b, "link", "set", "c0", "up")
        ip("-n", b, "route", "add", "198.18.203.0/24", "dev", "c0")
        for key, value in (("ip_forward", "1"), ("icmp_ratemask", "0")):  # forward; no ICMP rate limit
            ip("netns", "exec", b, "sysctl", "-qw", f"net.ipv4.{key}={value}")
        yield a
    finally:
        subprocess.run(["ip", "netns", "del", a], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", b], check=False, capture_output=True)


@pytest.fixture
def bare() -> Iterator[str]:
    """A fresh namespace with only ``lo`` up (ping_group_range at the kernel's "1 0")."""
    need(os.geteuid() == 0 and shutil.which("ip") is not None, "needs root and iproute2 for namespaces")
    name = f"gvicmp{os.getpid()}c"
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


# --- loopback -----------------------------------------------------------------------------


def test_255_targets_times_3_all_answered(raw: None) -> None:
    tgts = targets([f"127.3.2.{i}" for i in range(1, 256)])
    results = cycle(tgts)
    assert [r.target for r in results] == tgts
    for r in results:
        assert (r.success, r.sent, r.received, r.loss_ratio, r.detail) == (True, 3, 3, 0.0, "")
        assert r.rtt_seconds is not None and r.rtt_seconds > 0
        assert r.probe == "icmp"


def test_results_follow_target_order_including_refused_ones(raw: None) -> None:
    addresses = ["127.0.0.9", "10.1.2.3", "127.0.0.7", "not-an-ip", "::1", "127.0.0.8"]
    tgts = targets(addresses)
    results = cycle(tgts, count=1)
    assert [r.target for r in results] == tgts
    assert [r.success for r in results] == [True, False, True, False, False, True]
    assert results[1].detail == NOT_ALLOWED
    assert results[3].detail == results[4].detail == "not an IPv4 address"
    assert (results[1].sent, results[1].loss_ratio) == (0, None)


def test_disallowed_address_is_never_sent(listener: Listener) -> None:
    # 127.0.1.1 would answer on loopback if a packet went there: the listener would see it
    tgts = targets(["127.0.0.1", "127.0.1.1", "127.0.0.2"])
    probe = IcmpProbe(IcmpSettings.parse({"allowed_networks": ["127.0.0.0/24"], "count": 2}))
    try:
        results = run(probe, tgts)
        ident = probe.identifier
    finally:
        asyncio.run(probe.close())
    assert [r.detail for r in results] == ["", NOT_ALLOWED, ""]
    heard = listener.packets()
    requests = [p for p in heard if p.kind == 8 and p.identifier == ident]
    assert sorted(p.destination for p in requests) == ["127.0.0.1"] * 2 + ["127.0.0.2"] * 2
    assert not [p for p in heard if "127.0.1.1" in (p.source, p.destination)]


def test_default_allows_only_loopback_and_refuses_without_sending(raw: None, bare: str) -> None:
    with inside(bare):  # even if it were sent, this namespace has no route for it
        results = cycle(targets(["10.1.2.3", "192.0.2.1", "127.0.0.1"]), count=1)
    assert [r.detail for r in results] == [NOT_ALLOWED, NOT_ALLOWED, ""]


def test_source_address_is_chosen_per_target(listener: Listener) -> None:
    tgts = [
        Target("a", "party", "127.0.0.1", source="127.0.0.5"),
        Target("b", "party", "127.0.0.2", source="127.0.0.6"),
        Target("c", "intranet", "127.0.0.3"),
        Target("d", "party", "127.0.0.4", source="198.51.100.7"),  # not ours: refused, not sent
    ]
    probe = IcmpProbe()
    try:
        results = run(probe, tgts)
        ident = probe.identifier
    finally:
        asyncio.run(probe.close())
    assert [r.success for r in results] == [True, True, True, False]
    assert results[3].detail == "source 198.51.100.7 is not a local address"
    ours = [p for p in listener.packets() if p.identifier == ident]
    requests = {(p.source, p.destination) for p in ours if p.kind == 8}
    replies = {(p.source, p.destination) for p in ours if p.kind == 0}
    assert ("127.0.0.5", "127.0.0.1") in requests and ("127.0.0.6", "127.0.0.2") in requests
    assert ("127.0.0.1", "127.0.0.5") in replies and ("127.0.0.2", "127.0.0.6") in replies
    assert {s for s, d in requests if d == "127.0.0.3"}.isdisjoint({"127.0.0.5", "127.0.0.6"})
    assert not [p for p in ours if "127.0.0.4" in (p.source, p.destination)]


def test_pacing_spreads_packets_at_the_configured_rate(raw: None) -> None:
    tgts = targets([f"127.4.0.{i}" for i in range(1, 251)])
    started = time.monotonic()
    results = cycle(tgts, rate=500, count=2, echo_interval=0)
    elapsed = time.monotonic() - started
    assert sum(r.received for r in results) == 500
    assert elapsed >= 0.9  # 500 packets at 500/s: the last leaves ~1 s after the first


def test_interval_spaces_echoes_to_the_same_target(listener: Listener) -> None:
    probe = IcmpProbe(IcmpSettings(count=3, echo_interval=0.15, rate=0))
    try:
        started = time.monotonic()
        results = run(probe, targets(["127.0.0.1"]))
        elapsed = time.monotonic() - started
    finally:
        asyncio.run(probe.close())
    assert results[0].received == 3
    assert elapsed >= 0.3


def test_two_concurrent_instances_never_collide(listener: Listener) -> None:
    tgts = targets([f"127.5.0.{i}" for i in range(1, 256)])

    async def go() -> tuple[list[ProbeResult], list[ProbeResult], int | None, int | None]:
        one, two = IcmpProbe(IcmpSettings(rate=0)), IcmpProbe(IcmpSettings(rate=0))
        try:
            first, second = await asyncio.gather(one.run(tgts, 10), two.run(tgts, 10))
            return first, second, one.identifier, two.identifier
        finally:
            await one.close()
            await two.close()

    first, second, id1, id2 = asyncio.run(go())
    assert id1 != id2
    for results in (first, second):
        assert [(r.sent, r.received) for r in results] == [(3, 3)] * 255
    requests = [
        (p.identifier, p.sequence) for p in listener.packets() if p.kind == 8 and p.identifier in (id1, id2)
    ]
    assert len(requests) == len(set(requests)) == 2 * 765


def test_close_releases_the_socket(raw: None) -> None:
    before = len(os.listdir("/proc/self/fd"))
    probe = IcmpProbe()
    assert len(os.listdir("/proc/self/fd")) == before + 1
    asyncio.run(probe.close())
    assert len(os.listdir("/proc/self/fd")) == before
    results = run(probe, targets(["127.0.0.1"]))
    assert (results[0].success, results[0].detail) == (False, "probe closed")


def test_run_deadline_is_honoured_and_unsent_echoes_are_reported(raw: None) -> None:
    tgts = targets([f"127.6.0.{i}" for i in range(1, 101)])
    results = cycle(tgts, budget=0.2, rate=100, count=1)  # 100 packets need ~1 s, the run gets 0.2 s
    sent = [r for r in results if r.sent]
    unsent = [r for r in results if not r.sent]
    assert sent and unsent
    assert all(r.detail == "not sent before the deadline" and r.loss_ratio is None for r in unsent)
    assert [r.target for r in results] == tgts


def test_factory_is_registered_and_settings_are_strict() -> None:
    assert default_kinds()["icmp"].settings is IcmpSettings
    with pytest.raises(ConfigError, match="rtae: unknown icmp setting"):
        IcmpSettings.parse({"rtae": 5})
    for bad in ({"count": 0}, {"rate": -1}, {"payload": 4}, {"count": True}, {"ttl": "64"}):
        with pytest.raises(ConfigError):
            IcmpSettings.parse(bad)
    with pytest.raises(ConfigError):
        IcmpSettings.parse({"allowed_networks": "127.0.0.0/8"})
    with pytest.raises(ConfigError):
        IcmpSettings.parse({"allowed_networks": ["127.0.0.1/8"]})
    with pytest.raises(ConfigError):
        IcmpSettings.parse({"socket": "udp"})
    parsed = IcmpSettings.parse(
        {"count": 5, "rate": 0, "echo_interval": 1, "allowed_networks": ["10.0.0.0/8"]}
    )
    assert (parsed.count, parsed.rate, parsed.echo_interval, str(parsed.allowed_networks[0])) == (
        5,
        0.0,
        1.0,
        "10.0.0.0/8",
    )


# --- namespaces: errors, timeouts, the datagram socket ------------------------------------


def test_mixed_targets_give_exact_per_target_results(raw: None, routed: str) -> None:
    addresses = [ANSWERS, BLACKHOLE, UNREACHABLE, LOCAL_UNREACHABLE, NO_ROUTE, "127.0.0.1"]
    started = time.monotonic()
    with inside(routed):
        results = cycle(targets(addresses), allowed_networks=list(LAB), echo_interval=0.05, timeout=0.5)
    elapsed = time.monotonic() - started
    got = [(r.success, r.sent, r.received, r.loss_ratio, r.detail) for r in results]
    assert got == [
        (True, 3, 3, 0.0, ""),
        (False, 3, 0, 1.0, "no answer within 0.5 s"),
        (False, 3, 0, 1.0, f"host unreachable from {ROUTER}"),
        (False, 0, 0, 1.0, "host unreachable"),
        (False, 0, 0, 1.0, "network unreachable"),
        (True, 3, 3, 0.0, ""),
    ]
    assert results[1].rtt_seconds is None and results[0].rtt_seconds is not None
    assert elapsed >= 0.5  # the blackholed echoes were waited for


def test_icmp_error_settles_without_waiting_for_the_timeout(raw: None, routed: str) -> None:
    with inside(routed):
        started = time.monotonic()
        results = cycle(targets([UNREACHABLE]), allowed_networks=list(LAB), count=1, timeout=30)
        elapsed = time.monotonic() - started
    assert results[0].detail == f"host unreachable from {ROUTER}"
    assert elapsed < 30  # settled by the error, not the 30 s echo timeout


def test_time_exceeded_is_reported_with_the_router(raw: None, routed: str) -> None:
    with inside(routed):
        results = cycle(targets([FORWARDED, ANSWERS]), allowed_networks=list(LAB), ttl=1, count=2)
    assert results[0].detail == f"TTL exceeded in transit from {ROUTER}"
    assert (results[1].success, results[1].received) == (True, 2)


def test_datagram_socket_when_ping_group_range_allows_it(routed: str) -> None:
    ip("netns", "exec", routed, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
    try:
        with inside(routed):

            async def go() -> tuple[list[ProbeResult], bool]:
                probe = IcmpProbe(IcmpSettings.parse({"socket": "dgram", "allowed_networks": list(LAB)}))
                try:
                    return await probe.run(
                        targets([ANSWERS, UNREACHABLE, "127.0.0.1", BLACKHOLE]), 5
                    ), probe.raw
                finally:
                    await probe.close()

            results, is_raw = asyncio.run(go())
    finally:
        ip("netns", "exec", routed, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0")
    assert not is_raw
    assert [(r.success, r.received) for r in results] == [(True, 3), (False, 0), (True, 3), (False, 0)]
    assert results[1].detail == f"host unreachable from {ROUTER}"
    assert results[3].detail == "no answer within 1 s"


def test_no_socket_is_a_result_for_every_target(bare: str, caplog: pytest.LogCaptureFixture) -> None:
    with inside(bare):  # a fresh namespace's ping_group_range ("1 0") allows no datagram socket
        results = cycle(targets(["127.0.0.1", "127.0.0.2", "10.0.0.1"]), socket="dgram")
    assert [r.detail for r in results] == [
        "no ICMP socket: needs CAP_NET_RAW or ping_group_range",
        "no ICMP socket: needs CAP_NET_RAW or ping_group_range",
        NOT_ALLOWED,
    ]
    assert len([m for m in caplog.messages if "no ICMP socket" in m]) == 1


def test_kernel_filters_other_identifiers_and_echo_requests(raw: None) -> None:
    async def go() -> bytes | None:
        quiet, busy = IcmpProbe(), IcmpProbe()
        try:
            await busy.run(targets([f"127.7.0.{i}" for i in range(1, 101)]), 10)
            assert quiet._socket is not None
            try:
                return quiet._socket.sock.recv(65_536)
            except BlockingIOError:
                return None
        finally:
            await quiet.close()
            await busy.close()

    # 300 echo requests and 300 replies crossed loopback; none reached the idle instance's socket
    assert asyncio.run(go()) is None


def test_a_datagram_read_late_is_timed_by_its_arrival() -> None:
    """The probe times replies by the kernel's arrival stamp: a reply that came in time but was
    read late (an event loop blocked on a starved machine) is not a loss. Here on a UDP pair,
    with the same socket option and the same conversion as the ICMP sockets."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
    ):
        rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        rx.bind(("127.0.0.1", 0))
        tx.sendto(b"echo", rx.getsockname())
        sent = time.monotonic()
        time.sleep(0.4)  # the loop is busy elsewhere
        buffer = bytearray(64)
        length, ancdata, _flags, _address = rx.recvmsg_into([buffer], ANCILLARY)
        now = time.monotonic()
        came = arrival(ancdata, time.time() - now, now)
    assert bytes(buffer[:length]) == b"echo"
    assert sent - 0.05 <= came <= sent + 0.2 < now  # when it arrived, not when it was read
    assert arrival([], 0.0, now) == now  # no stamp: the read time
    assert arrival(ancdata, -1e6, now) == now  # a stamp after the read (clock stepped): the read time
