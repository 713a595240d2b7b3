"""``govnet.rollout.runner``: one result per job, the policies, the stop, the hooks, the bound.

Real threads (and, once, real worker processes); jobs block on events the test sets, so what
runs together is observed, never timed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from govnet.errors import UsageError
from govnet.rollout.runner import (
    Canary,
    FailureThreshold,
    Hooks,
    Job,
    Runner,
    Summary,
    UnitResult,
)
from govnet.rollout.runs import Result
from govnet.rollout.stopping import StopRequest
from govnet.rollout.workers import Work


class Recorder(Hooks):
    """Every event, in the order the runner reported it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def run_started(self, jobs: Sequence[Job[Any]]) -> None:
        self.events.append(("run", str(len(jobs))))

    def wave_started(self, wave: str, jobs: Sequence[Job[Any]]) -> None:
        self.events.append(("wave", wave, ",".join(j.unit for j in jobs)))

    def wave_finished(self, wave: str) -> None:
        self.events.append(("wave-end", wave))

    def unit_started(self, job: Job[Any]) -> None:
        self.events.append(("start", job.unit))

    def unit_finished(self, result: UnitResult[Any]) -> None:
        self.events.append(("end", result.unit, result.status))

    def run_finished(self, results: Sequence[UnitResult[Any]], summary: Summary) -> None:
        self.events.append(("done", summary.text()))


class Tracked:
    """Work that records how many jobs run at once; ``fail`` names the units that fail."""

    def __init__(
        self, fail: frozenset[str] = frozenset(), on_start: Callable[[str], None] | None = None
    ) -> None:
        self.fail, self.on_start = fail, on_start
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def __call__(self, job: Job[int]) -> UnitResult[int]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if self.on_start is not None:
                self.on_start(job.unit)
            status: Result = "failed" if job.unit in self.fail else "changed"
            return UnitResult(
                job.unit, job.device, status, "broke" if status == "failed" else "", value=job.item
            )
        finally:
            with self.lock:
                self.running -= 1

    def make(self) -> Work[Job[int], UnitResult[int]]:
        return self, lambda: None


def jobs(n: int) -> list[Job[int]]:
    return [Job(f"u{i}", f"d{i}", i) for i in range(n)]


def test_one_result_per_job_and_the_summary_is_counted_from_them() -> None:
    work = Tracked(fail=frozenset({"u2"}))
    out = Runner(work.make, concurrency=3).run(jobs(5))
    assert sorted(r.unit for r in out.results) == [f"u{i}" for i in range(5)]
    assert [r.value for r in out.ordered()] == [0, 1, 2, 3, 4]
    assert out.summary.counts == {"changed": 4, "failed": 1}
    assert out.summary.text() == "4 changed, 1 failed"
    assert not out.stopped and not out.interrupted
    assert all(r.seconds >= 0 and r.phase == "done" for r in out.results)


def test_the_pool_never_runs_more_than_the_concurrency() -> None:
    gate = threading.Barrier(3, timeout=30)  # the first three jobs meet: three did run at once

    def meet(unit: str) -> None:
        if unit in ("u0", "u1", "u2"):
            gate.wait()

    work = Tracked(on_start=meet)
    Runner(work.make, concurrency=3).run(jobs(12))
    assert work.most == 3


def test_canary_jobs_run_alone_and_first_then_the_rest() -> None:
    hooks = Recorder()
    work = Tracked()
    Runner(work.make, concurrency=4, canary=Canary(2), hooks=[hooks]).run(jobs(6))
    events = hooks.events
    assert events[:8] == [
        ("run", "6"),
        ("wave", "canary", "u0,u1"),
        ("start", "u0"),
        ("end", "u0", "changed"),
        ("start", "u1"),
        ("end", "u1", "changed"),
        ("wave-end", "canary"),
        ("wave", "main", "u2,u3,u4,u5"),
    ]
    assert events[-2:] == [("wave-end", "main"), ("done", "6 changed")]


def test_a_failed_canary_past_the_threshold_skips_the_rest_with_the_reason() -> None:
    def unstarted(job: Job[int], why: str) -> UnitResult[int]:
        return UnitResult(job.unit, job.device, "skipped", f"not started ({why})")

    hooks = Recorder()
    work = Tracked(fail=frozenset({"u0"}))
    runner = Runner(
        work.make,
        canary=Canary(1),
        threshold=FailureThreshold("0"),
        hooks=[hooks],
        unstarted=unstarted,
    )
    out = runner.run(jobs(4))
    assert out.stopped
    assert [(r.unit, r.status, r.reason) for r in out.results] == [
        ("u0", "failed", "broke"),
        *[(f"u{i}", "skipped", "not started (threshold)") for i in (1, 2, 3)],
    ]
    assert ("wave", "main", "u1,u2,u3") not in hooks.events  # no main wave: nothing started
    assert hooks.events[-1] == ("done", "1 failed, 3 skipped")


def test_failures_within_the_threshold_let_the_run_go_on() -> None:
    out = Runner(Tracked(fail=frozenset({"u1", "u3"})).make, threshold=FailureThreshold("50%")).run(jobs(4))
    assert not out.stopped and out.summary.counts == {"changed": 2, "failed": 2}


def test_a_stop_request_lets_jobs_in_flight_finish_and_starts_none() -> None:
    stop = StopRequest()
    work = Tracked(on_start=lambda unit: stop.request("SIGTERM") if unit == "u1" else None)
    out = Runner(work.make, concurrency=1, stop=stop).run(jobs(5))
    assert out.interrupted == "SIGTERM" and not out.stopped
    finished = [(r.unit, r.status, r.phase) for r in out.results]
    assert finished[:2] == [("u0", "changed", "done"), ("u1", "changed", "done")]
    assert finished[2:] == [(f"u{i}", "skipped", "pending") for i in (2, 3, 4)]


def test_an_error_in_the_work_stops_the_run_and_ends_its_wave() -> None:
    hooks = Recorder()
    stop = StopRequest()

    def boom(unit: str) -> None:
        if unit == "u1":
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        Runner(Tracked(on_start=boom).make, concurrency=1, stop=stop, hooks=[hooks]).run(jobs(3))
    assert stop.requested and stop.reason == "error"
    assert hooks.events[-1] == ("wave-end", "main")
    assert not any(e[0] == "done" for e in hooks.events)


def make_pid_work() -> Work[Job[int], UnitResult[int]]:
    def work(job: Job[int]) -> UnitResult[int]:
        return UnitResult(job.unit, job.device, "ok", value=os.getpid())

    return work, lambda: None


def test_worker_processes_share_the_jobs_and_the_results_come_back() -> None:
    out = Runner(make_pid_work, concurrency=4, processes=2).run(jobs(8))
    assert len(out.results) == 8 and out.summary.counts == {"ok": 8}
    assert os.getpid() not in {r.value for r in out.results}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten", "--max-failures 'ten': expected a count (3) or a share (10%)"),
        ("150%", "--max-failures '150%': a share is at most 100%"),
        ("-1", "--max-failures '-1': expected a count (3) or a share (10%)"),
    ],
)
def test_a_bad_failure_threshold_is_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        FailureThreshold.parse(text)
    assert list(caught.value.lines()) == [message]


def test_no_threshold_never_stops() -> None:
    out = Runner(Tracked(fail=frozenset(f"u{i}" for i in range(4))).make).run(jobs(4))
    assert not out.stopped and out.summary.counts == {"failed": 4}
