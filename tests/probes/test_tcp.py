"""The tcp probe against real sockets: listeners on 127.0.0.x, and a namespace made here for silence.

A filtered port is a SYN nobody answers: a namespace of our own whose only way to 198.18.250.0/24
is a veth whose other end (in the same namespace, no address) drops frames for a MAC it does not
have; nothing can leave the machine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from govnet.errors import ConfigError
from govnet.osutil.netns import in_netns
from govnet.probes.base import ProbeResult, Target
from govnet.probes.registry import default_kinds
from govnet.probes.tcp.probe import NOT_ALLOWED, TcpProbe, TcpSettings
from tests.helpers import need

SWALLOWED = "198.18.250.9"  # sent to a MAC nobody has: the SYN vanishes
UNREACHABLE = "198.18.251.9"  # an `unreachable` route: connect fails at once


def run(targets: list[Target], budget: float = 5.0, **settings: object) -> list[ProbeResult]:
    """One run of a fresh probe with ``settings``; ``budget`` is the run's own timeout."""
    probe = TcpProbe(TcpSettings.parse(settings))
    return asyncio.run(probe.run(targets, budget))


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    """A listening socket on 127.0.0.1 (any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock, sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: the kernel answers a SYN with a reset (and nobody takes it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope="module")
def silent() -> Iterator[str]:
    """A namespace where `SWALLOWED` goes nowhere and 198.18.251.0/24 is unreachable."""
    need(os.geteuid() == 0 and shutil.which("ip") is not None, "needs root and iproute2 for a namespace")
    name = f"gvtcp{os.getpid()}"
    commands = [
        ["netns", "add", name],
        ["-n", name, "link", "set", "lo", "up"],
        ["-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
        ["-n", name, "addr", "add", "198.18.250.1/24", "dev", "v0"],
        ["-n", name, "link", "set", "v0", "up"],
        ["-n", name, "link", "set", "v1", "up"],
        [
            "-n",
            name,
            "neigh",
            "add",
            SWALLOWED,
            "lladdr",
            "02:00:00:00:00:09",
            "dev",
            "v0",
            "nud",
            "permanent",
        ],
        ["-n", name, "route", "add", "unreachable", "198.18.251.0/24"],
    ]
    try:
        for args in commands:
            subprocess.run(["ip", *args], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def test_listening_port_connects_and_reports_the_connect_time(listener: tuple[socket.socket, int]) -> None:
    _sock, port = listener
    (result,) = run([Target("u1", "extranet", "127.0.0.1", port=port)])
    assert (result.success, result.detail, result.probe, result.sent, result.received) == (
        True,
        "",
        "tcp",
        1,
        1,
    )
    assert result.rtt_seconds is not None and 0 < result.rtt_seconds < 1


def test_source_address_is_the_one_the_service_sees(listener: tuple[socket.socket, int]) -> None:
    sock, port = listener
    (result,) = run([Target("u1", "extranet", "127.0.0.1", port=port, source="127.0.0.7")])
    assert result.success
    sock.settimeout(2)
    peer, _ = sock.accept()
    assert peer.getpeername()[0] == "127.0.0.7"
    peer.close()
    (foreign,) = run([Target("u1", "extranet", "127.0.0.1", port=port, source="198.51.100.7")])
    assert (foreign.success, foreign.detail, foreign.sent) == (
        False,
        "source 198.51.100.7 is not a local address",
        0,
    )


def test_closed_port_is_refused(closed_port: int) -> None:
    (result,) = run([Target("u1", "extranet", "127.0.0.1", port=closed_port)])
    assert (result.success, result.detail, result.rtt_seconds) == (False, "refused", None)


def test_filtered_port_times_out_and_unreachable_is_named(silent: str) -> None:
    targets = [
        Target("u1", "extranet", SWALLOWED, port=8443),
        Target("u2", "extranet", UNREACHABLE, port=8443),
    ]
    started = time.monotonic()
    results = in_netns(silent, lambda: run(targets, allowed_networks=["198.18.0.0/15"], timeout=0.3))
    took = time.monotonic() - started
    assert [(r.success, r.detail) for r in results] == [
        (False, "timeout after 0.3 s"),
        (False, "unreachable"),
    ]
    assert 0.3 <= took < 10.0


def test_concurrency_is_bounded_and_the_run_ends_at_its_deadline(silent: str) -> None:
    targets = [Target(f"u{i}", "extranet", SWALLOWED, port=8443 + i) for i in range(12)]
    started = time.monotonic()
    results = in_netns(
        silent, lambda: run(targets, 3.0, allowed_networks=["198.18.0.0/15"], timeout=2.0, concurrency=1)
    )
    took = time.monotonic() - started
    assert results[0].detail == "timeout after 2 s"
    assert results[1].detail.startswith("timeout after ")  # what was left of the run: ~1 s
    assert all((r.detail, r.sent) == ("not attempted before the deadline", 0) for r in results[2:])
    assert took < 15.0  # one at a time without the deadline: 24 s


def test_disallowed_address_is_never_connected(listener: tuple[socket.socket, int]) -> None:
    _sock, port = listener
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    other.bind(("127.0.1.1", 0))  # would accept if anything were sent there
    other.listen(8)
    try:
        results = run(
            [
                Target("a", "extranet", "127.0.1.1", port=other.getsockname()[1]),
                Target("b", "extranet", "127.0.0.1", port=port),
                Target("c", "extranet", "10.1.2.3", port=port),
                Target("d", "extranet", "127.0.0.1"),
            ],
            allowed_networks=["127.0.0.0/24"],
        )
        other.setblocking(False)
        with pytest.raises(BlockingIOError):
            other.accept()
    finally:
        other.close()
    assert [(r.success, r.detail, r.sent) for r in results] == [
        (False, NOT_ALLOWED, 0),
        (True, "", 1),
        (False, NOT_ALLOWED, 0),
        (False, "no TCP port given", 0),
    ]
    assert [r.target.unit for r in results] == ["a", "b", "c", "d"]
    (default,) = run([Target("x", "extranet", "192.0.2.1", port=80)])  # default: loopback only
    assert default.detail == NOT_ALLOWED


def test_factory_is_registered_and_settings_are_strict() -> None:
    kind = default_kinds()["tcp"]
    assert isinstance(kind.make(kind.settings()), TcpProbe)
    with pytest.raises(ConfigError, match=r"unknown tcp setting.*concurency"):
        TcpSettings.parse({"concurency": 4})
    for bad in (
        {"concurrency": 0},
        {"timeout": "1"},
        {"allowed_networks": "127.0.0.0/8"},
        {"concurrency": True},
    ):
        with pytest.raises(ConfigError):
            TcpSettings.parse(bad)
    assert TcpSettings.parse({}).concurrency == 256
