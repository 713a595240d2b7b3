"""``govnet.rollout.workers``: per-unit work in forked worker processes, each with its threads.

Real processes, real signals: results and errors come back to the caller, each worker runs at
most its share of the concurrency and cleans up once, a worker killed from outside fails only
the work it held, and no worker outlives a SIGKILLed parent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from govnet.errors import GovnetError, StateError
from govnet.rollout.workers import WorkerLost, Workers

ROOT = Path(__file__).resolve().parents[2]


def spans(
    delay: float,
) -> Callable[[], tuple[Callable[[int], tuple[int, int, float, float]], Callable[[], None]]]:
    def make() -> tuple[Callable[[int], tuple[int, int, float, float]], Callable[[], None]]:
        def work(item: int) -> tuple[int, int, float, float]:
            start = time.monotonic()
            time.sleep(delay)
            return item, os.getpid(), start, time.monotonic()

        return work, lambda: None

    return make


def most_at_once(rows: list[tuple[int, int, float, float]], pid: int) -> int:
    mine = [(start, end) for _, p, start, end in rows if p == pid]
    return max(sum(1 for s, e in mine if s <= t < e) for t, _ in mine)


def test_items_run_in_the_workers_at_most_their_share_at_once() -> None:
    with Workers(spans(0.5), processes=2, threads=2) as pool:
        rows = [f.result(timeout=30) for f in [pool.submit(i) for i in range(8)]]
    assert [r[0] for r in rows] == list(range(8))  # each future holds its own item's result
    pids = {r[1] for r in rows}
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(most_at_once(rows, pid) == 2 for pid in pids)


def test_one_process_means_this_process_and_no_fork() -> None:
    with Workers(spans(0.0), processes=1, threads=3) as pool:
        rows = [pool.submit(i).result(timeout=30) for i in range(3)]
    assert {r[1] for r in rows} == {os.getpid()}


def test_each_worker_cleans_up_once_when_closed(tmp_path: Path) -> None:
    def make() -> tuple[Callable[[int], int], Callable[[], None]]:
        return (lambda item: item * 2), lambda: (tmp_path / str(os.getpid())).touch(exist_ok=False)

    pool: Workers[int, int] = Workers(make, processes=3, threads=1)
    assert [pool.submit(i).result(timeout=30) for i in range(6)] == [0, 2, 4, 6, 8, 10]
    pool.close()
    pool.close()
    assert len(list(tmp_path.iterdir())) == 3


class Unpicklable(Exception):
    def __init__(self, what: str, extra: object) -> None:
        super().__init__(what)
        self.extra = extra

    def __reduce__(self) -> Any:
        raise TypeError("not this one")


def test_errors_come_back_as_they_were_raised() -> None:
    def make() -> tuple[Callable[[str], None], Callable[[], None]]:
        def work(item: str) -> None:
            if item == "state":
                raise StateError("/srv/govnet/govnet.db: state store error: disk is full")
            if item == "odd":
                raise Unpicklable("odd failure", object())
            raise GovnetError("plain")

        return work, lambda: None

    with Workers(make, processes=2, threads=1) as pool:
        state, odd, plain = pool.submit("state"), pool.submit("odd"), pool.submit("plain")
        with pytest.raises(StateError, match=r"disk is full$"):
            state.result(timeout=30)
        with pytest.raises(RuntimeError, match="Unpicklable in a worker process") as caught:
            odd.result(timeout=30)
        assert "odd failure" in str(caught.value)
        with pytest.raises(GovnetError, match=r"^plain$"):
            plain.result(timeout=30)


def test_a_worker_killed_from_outside_fails_only_the_work_it_held() -> None:
    def make() -> tuple[Callable[[float], int], Callable[[], None]]:
        def work(delay: float) -> int:
            if delay < 0:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(delay)
            return os.getpid()

        return work, lambda: None

    with Workers(make, processes=2, threads=1) as pool:
        doomed = pool.submit(-1.0)  # the first worker (least loaded) kills itself
        survivor = pool.submit(0.0)
        with pytest.raises(
            WorkerLost, match=r"^worker process 1 \(pid \d+\) died \(signal 9\) with work in hand$"
        ):
            doomed.result(timeout=30)
        assert survivor.result(timeout=30) != os.getpid()
        later = pool.submit(0.0)  # new work goes to the living worker
        assert later.result(timeout=30) == survivor.result()


def test_no_worker_outlives_a_killed_parent(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from pathlib import Path
        from govnet.rollout.workers import Workers

        def make():
            return (lambda item: (time.sleep(item), os.getpid())[1]), lambda: None

        pool = Workers(make, processes=2, threads=1)
        futures = [pool.submit(60) for _ in range(2)]
        time.sleep(1)
        Path({str(pids)!r}).write_text(" ".join(str(p.pid) for p, _ in pool._children))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL
    children = [int(p) for p in pids.read_text().split()]
    assert len(children) == 2
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
