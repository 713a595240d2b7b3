"""One runner for every operation on many devices: plan, apply, resume, rollback, backup, drift.

Like nornir's runner, it knows nothing of what is done to a device. It takes jobs (one per unit
and device), runs a function on each in a bounded pool (threads, or worker processes sharing the
bound: ``govnet.rollout.workers``) and returns one typed ``UnitResult`` per job, failures
included; the summary is counted from those results, never kept on the side. What differs
between operations is passed in as small objects instead of being written into each loop:

- policies: ``Canary`` (how many jobs go first, one at a time) and ``FailureThreshold`` (how many
  failures stop the run from starting more);
- a ``StopRequest`` (SIGTERM, Ctrl-C): jobs in flight finish, none start;
- ``Hooks``: told when a wave starts and ends, when a unit starts and finishes and when the run
  ends; progress bars, per-unit lines, Alertmanager silences and the audit trail listen there.

Only this module decides what starts; hooks run in the calling process's scheduling thread (a
result from a worker process is handed over first), so they need no locks of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from govnet.errors import UsageError
from govnet.rollout.runs import Phase, Result
from govnet.rollout.stopping import StopRequest
from govnet.rollout.workers import Work, Workers

Item = TypeVar("Item")
Value = TypeVar("Value")

FAILED: tuple[Result, ...] = ("failed", "restored")
"""Results that count against the failure threshold (a restored unit's change failed)."""


@dataclass(frozen=True)
class UnitResult(Generic[Value]):
    """What happened to one unit's device: ``ok`` (nothing to do), ``changed``, ``failed`` with the
    reason, ``skipped`` with the reason, or ``restored`` (failed, and put back as it was)."""

    unit: str
    device: str
    status: Result
    reason: str = ""
    phase: Phase = "done"
    """The last phase the unit reached (``done`` once finished, ``pending`` if never started)."""
    seconds: float = 0.0
    """Wall time from its start to its end, measured by the runner."""
    value: Value | None = None
    """What the work produced for the caller (a planned unit, a drift check, a backup)."""

    @property
    def failed(self) -> bool:
        return self.status in FAILED


@dataclass(frozen=True)
class Job(Generic[Item]):
    """One unit's device and what the work needs to know about it (picklable: it may be sent
    to a worker process)."""

    unit: str
    device: str
    item: Item


@dataclass(frozen=True)
class Summary:
    """Counts per result and how the run ended, derived from the results."""

    counts: dict[str, int]
    stopped: bool = False
    interrupted: str = ""

    @classmethod
    def of(cls, results: Sequence[UnitResult[Any]], stopped: bool = False, interrupted: str = "") -> Summary:
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return cls(counts, stopped, interrupted)

    def text(self) -> str:
        """``3 changed, 1 failed`` (results in alphabetical order).

        >>> Summary({"failed": 1, "changed": 3}).text()
        '3 changed, 1 failed'
        """
        return ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))


@dataclass(frozen=True)
class Canary:
    """The first ``count`` jobs run one at a time, alone, before the rest: a change that breaks
    every device breaks one."""

    count: int = 0

    def split(self, jobs: Sequence[Job[Item]]) -> tuple[list[Job[Item]], list[Job[Item]]]:
        return list(jobs[: self.count]), list(jobs[self.count :])


@dataclass(frozen=True)
class FailureThreshold:
    """Stop starting units once more than ``N`` (or ``PCT%`` of all units) failed; empty: never.

    >>> FailureThreshold("3").limit(50), FailureThreshold("25%").limit(4), FailureThreshold("10%").limit(5)
    (3, 1, 0)
    """

    max_failures: str = ""

    @classmethod
    def parse(cls, text: str) -> FailureThreshold:
        """``--max-failures`` as given; a clear one-line error for anything else."""
        value = text.strip()
        number = value[:-1] if value.endswith("%") else value
        if not number.replace(".", "", 1).isdigit():
            raise UsageError(f"--max-failures '{text}': expected a count (3) or a share (10%)")
        if value.endswith("%") and float(number) > 100:
            raise UsageError(f"--max-failures '{text}': a share is at most 100%")
        return cls(value)

    def limit(self, total: int) -> int | None:
        text = self.max_failures.strip()
        if not text:
            return None
        if text.endswith("%"):
            return max(0, int(total * float(text[:-1]) / 100))
        return int(text)

    def exceeded(self, results: Sequence[UnitResult[Any]], total: int) -> bool:
        limit = self.limit(total)
        return limit is not None and sum(1 for r in results if r.failed) > limit


class Hooks:
    """What a run tells its listeners; every method does nothing unless overridden."""

    def run_started(self, jobs: Sequence[Job[Any]]) -> None:
        """Every job the run was given, before any starts."""

    def wave_started(self, wave: str, jobs: Sequence[Job[Any]]) -> None:
        """``wave``: ``canary`` or ``main``; ``jobs``: the units it may start."""

    def wave_finished(self, wave: str) -> None:
        """Called also when the wave ends by an error."""

    def unit_started(self, job: Job[Any]) -> None: ...

    def unit_finished(self, result: UnitResult[Any]) -> None: ...

    def run_finished(self, results: Sequence[UnitResult[Any]], summary: Summary) -> None:
        """Not called when the run ends by an error (the error says what happened)."""


@dataclass
class RunResults(Generic[Value]):
    """A run's results (in the order units finished) and how it ended."""

    results: list[UnitResult[Value]] = field(default_factory=list)
    stopped: bool = False
    """The failure threshold was passed: units not started were skipped."""
    interrupted: str = ""
    """The stop request's reason (``SIGTERM``): units not started were left pending."""
    order: list[int] = field(default_factory=list)
    """Each result's position among the jobs (``ordered`` sorts by it)."""

    @property
    def summary(self) -> Summary:
        return Summary.of(self.results, self.stopped, self.interrupted)

    def ordered(self) -> list[UnitResult[Value]]:
        """The results in the order of the jobs given."""
        return [r for _, r in sorted(zip(self.order, self.results, strict=True), key=lambda p: p[0])]


Unstarted = Callable[[Job[Item], str], UnitResult[Value]]
"""Result for a job never started: given the job and why (``threshold`` or the stop's reason)."""


@dataclass
class Runner(Generic[Item, Value]):
    """Runs ``work`` on jobs: the canary jobs one at a time, then the rest ``concurrency`` at a time,
    in ``processes`` worker processes (1: this process's threads)."""

    make: Callable[[], Work[Job[Item], UnitResult[Value]]]
    """Called once per worker: the function run per job, and its clean-up."""
    concurrency: int = 10
    processes: int = 1
    canary: Canary = Canary()
    threshold: FailureThreshold = FailureThreshold()
    stop: StopRequest = field(default_factory=StopRequest)
    hooks: Sequence[Hooks] = ()
    unstarted: Unstarted[Item, Value] | None = None
    total: int | None = None
    """Units the threshold's share counts from (default: the jobs given)."""

    def run(self, jobs: Sequence[Job[Item]]) -> RunResults[Value]:
        out: RunResults[Value] = RunResults()
        total = len(jobs) if self.total is None else self.total
        position = {id(job): index for index, job in enumerate(jobs)}
        processes = max(1, min(self.processes, self.concurrency, len(jobs)))
        canary, rest = self.canary.split(jobs)
        started: dict[int, float] = {}
        for hook in self.hooks:
            hook.run_started(jobs)

        def submit(pool: Workers[Job[Item], UnitResult[Value]], job: Job[Item]) -> Future[UnitResult[Value]]:
            for hook in self.hooks:
                hook.unit_started(job)
            started[id(job)] = time.monotonic()
            return pool.submit(job)

        def finish(job: Job[Item], result: UnitResult[Value]) -> None:
            result = replace(result, seconds=time.monotonic() - started.get(id(job), time.monotonic()))
            out.results.append(result)
            out.order.append(position[id(job)])
            for hook in self.hooks:
                hook.unit_finished(result)
            out.stopped = out.stopped or self.threshold.exceeded(out.results, total)

        with Workers(self.make, processes, -(-self.concurrency // processes)) as pool:
            with self._wave("canary", canary):
                while canary and not self._halted(out):
                    job = canary.pop(0)
                    finish(job, submit(pool, job).result())
            rest = canary + rest  # canary jobs not started stay with the rest
            if rest and not self._halted(out):
                with self._wave("main", rest):
                    self._main_wave(pool, rest, submit, finish, out)
        self._left(rest, out, finish)
        if self.stop.requested:
            out.interrupted = self.stop.reason
        for hook in self.hooks:
            hook.run_finished(out.results, out.summary)
        return out

    def _main_wave(
        self,
        pool: Workers[Job[Item], UnitResult[Value]],
        pending: list[Job[Item]],
        submit: Callable[[Workers[Job[Item], UnitResult[Value]], Job[Item]], Future[UnitResult[Value]]],
        finish: Callable[[Job[Item], UnitResult[Value]], None],
        out: RunResults[Value],
    ) -> None:
        """Keep ``concurrency`` jobs in flight until none is left or the run halts; ``pending``
        keeps the jobs never started."""
        running: dict[Future[UnitResult[Value]], Job[Item]] = {}
        try:
            while pending or running:
                while pending and len(running) < self.concurrency and not self._halted(out):
                    job = pending.pop(0)
                    running[submit(pool, job)] = job
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(running.pop(future), future.result())
        except BaseException:
            self.stop.request("error")  # units in flight finish; none start
            raise

    def _halted(self, out: RunResults[Value]) -> bool:
        return out.stopped or self.stop.requested

    def _left(
        self,
        pending: list[Job[Item]],
        out: RunResults[Value],
        finish: Callable[[Job[Item], UnitResult[Value]], None],
    ) -> None:
        """Results for the jobs never started: skipped past the threshold, pending after a stop."""
        if not pending:
            return
        why = "threshold" if out.stopped else self.stop.reason
        for job in pending:
            if self.unstarted is not None:
                finish(job, self.unstarted(job, why))
            else:
                finish(job, UnitResult(job.unit, job.device, "skipped", f"not started ({why})", "pending"))

    def _wave(self, name: str, jobs: Sequence[Job[Item]]) -> _Wave:
        return _Wave(self.hooks, name, jobs)


class _Wave:
    """Tells the hooks a wave started, and that it ended however it ended."""

    def __init__(self, hooks: Sequence[Hooks], name: str, jobs: Sequence[Job[Any]]) -> None:
        self.hooks, self.name, self.jobs = hooks, name, list(jobs)  # the caller pops its list

    def __enter__(self) -> None:
        if self.jobs:
            for hook in self.hooks:
                hook.wave_started(self.name, self.jobs)

    def __exit__(self, *exc: object) -> None:
        if self.jobs:
            for hook in self.hooks:
                hook.wave_finished(self.name)
