"""The apply's shared ICMP checks (``Pinger``) through the kernel, on loopback only.

Every 127.0.0.0/8 address answers on loopback, so an address missing from a result was never
sent an echo. The suite runs in a network namespace holding only loopback (scripts/test).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from govnet.probes.base import ProbeResult, Target
from govnet.probes.icmp.probe import IcmpProbe
from govnet.rollout import pinger
from govnet.rollout.pinger import Pinger
from tests.helpers import need

CLONE_NEWNET = 0x40000000


@pytest.fixture
def cycles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the probe's cycles (their target counts) without changing what they do."""
    need(os.geteuid() == 0, "raw ICMP sockets need root (CAP_NET_RAW)")
    seen: list[int] = []

    class Counting(IcmpProbe):
        async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
            seen.append(len(targets))
            return await super().run(targets, timeout)

    monkeypatch.setattr(pinger, "IcmpProbe", Counting)
    return seen


def test_concurrent_checks_share_cycles_and_each_gets_its_own_answer(cycles: list[int]) -> None:
    allowed = {f"127.0.0.{i}" for i in range(1, 13)}
    pinger = Pinger(allowed)
    start = threading.Barrier(12)
    answers: dict[int, set[str]] = {}

    def worker(i: int) -> None:
        start.wait()
        answers[i] = pinger.check({f"127.0.0.{i + 1}", "127.0.0.1"})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        pinger.close()
    assert answers == {i: {f"127.0.0.{i + 1}", "127.0.0.1"} for i in range(12)}
    assert len(cycles) < 12, cycles  # checks that arrived during a cycle went out together
    assert sum(cycles) < 12 * 2


def test_an_address_outside_the_run_is_never_sent_an_echo(cycles: list[int]) -> None:
    pinger = Pinger({"127.0.0.1"})
    try:
        assert pinger.check({"127.0.0.1", "127.0.0.9"}) == {"127.0.0.1"}  # .9 would have answered
    finally:
        pinger.close()


def test_closing_an_unused_pinger_opens_nothing(cycles: list[int]) -> None:
    pinger = Pinger({"127.0.0.1"})
    pinger.close()
    pinger.close()
    assert cycles == []
    assert not any(t.name == "verify-icmp" for t in threading.enumerate())


def _silent(conn: Any, seen: list[int]) -> None:
    """In a network namespace of its own (this forked child only) that ignores echo requests."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare")
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        Path("/proc/sys/net/ipv4/icmp_echo_ignore_all").write_text("1")
        pinger = Pinger({"127.0.0.1"})
        try:
            conn.send((pinger.check({"127.0.0.1"}), seen))
        finally:
            pinger.close()
    except Exception as exc:  # reported to the test
        conn.send((repr(exc), seen))


def test_answering_addresses_take_one_round_and_silent_ones_get_a_second(cycles: list[int]) -> None:
    """One echo per address first; only the addresses still silent get the second (``COUNT``)."""
    pinger = Pinger({"127.0.0.1", "127.0.0.2"})
    try:
        assert pinger.check({"127.0.0.1", "127.0.0.2"}) == {"127.0.0.1", "127.0.0.2"}
    finally:
        pinger.close()
    assert cycles == [2]  # both answered the first echo: no second round, no spacing wait
    fork = multiprocessing.get_context("fork")
    mine, theirs = fork.Pipe()
    child = fork.Process(target=_silent, args=(theirs, cycles))
    child.start()
    answer, seen = mine.recv() if mine.poll(30) else ("no answer", None)
    child.join(timeout=30)
    assert answer == set(), answer
    assert seen == [2, 1, 1]  # (the child's copy of the count) the silent address: twice, alone
