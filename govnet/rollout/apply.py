"""``rollout apply`` and ``rollout resume``: the units of a plan through the runner.

Canary units first, one at a time, then the rest in a bounded pool (``govnet.rollout.runner``);
each unit goes through the steps of ``govnet.rollout.steps``. The run is recorded before it
starts (every unit pending), so ``resume`` after a kill starts each unit at its recorded phase;
it stops taking new units once failures pass ``--max-failures``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govnet.errors import StateError
from govnet.export.silences import Silencer
from govnet.rollout import runs
from govnet.rollout.context import Context
from govnet.rollout.hooks import RunEnd, Silences
from govnet.rollout.planfile import Plan, PlanUnit
from govnet.rollout.runner import Canary, FailureThreshold, Hooks, Job, Runner, Summary, UnitResult
from govnet.rollout.runs import Phase
from govnet.rollout.steps import Applier, Options, verify_failure
from govnet.rollout.stopping import StopRequest
from govnet.rollout.workers import Work
from govnet.state import audit
from govnet.state.db import connect

__all__ = ["Options", "Report", "resume", "start", "verify_failure"]
"""What callers use (``Options`` and ``verify_failure`` live with the steps)."""

THRESHOLD = "run stopped: failures passed --max-failures"


@dataclass
class Report:
    run_id: str
    outcomes: list[UnitResult[None]] = field(default_factory=list)
    stopped: bool = False
    interrupted: str = ""
    """The signal that stopped the run (``SIGTERM``); its unstarted units stay pending."""

    @property
    def summary(self) -> Summary:
        return Summary.of(self.outcomes, self.stopped, self.interrupted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "stopped": self.stopped,
            "interrupted": self.interrupted or None,
            "units": [
                {"id": o.unit, "device": o.device, "result": o.status, "reason": o.reason}
                for o in self.outcomes
            ],
        }


def start(
    ctx: Context,
    plan: Plan,
    plan_path: str,
    plan_hash: str,
    options: Options,
    hooks: Sequence[Hooks] = (),
    stop: StopRequest | None = None,
    silencer: Silencer | None = None,
) -> Report:
    """Record the run (all units pending), then apply it."""
    ordered = sorted(plan.units, key=lambda u: u.status == "refused")  # refused units are skipped last
    with connect(ctx.state_dir) as conn:
        run_id = runs.create(
            conn,
            "apply",
            plan_path,
            plan_hash,
            plan.scope.model_dump(),
            options.__dict__,
            [(u.id, u.device, 0 if i < options.canary else 1, u.commands) for i, u in enumerate(ordered)],
        )
        audit.append(
            conn, ctx.state_dir, "run-start", {"plan": plan_path, "units": len(ordered)}, run_id=run_id
        )
    applier = Applier(ctx, run_id, plan.scope.segment, options, units=ordered)
    todo: list[tuple[PlanUnit, Phase]] = [(u, "pending") for u in ordered]
    return _run(applier, todo, len(ordered), hooks, stop, silencer)


def resume(
    ctx: Context,
    plan: Plan,
    run_id: str,
    options: Options,
    hooks: Sequence[Hooks] = (),
    stop: StopRequest | None = None,
    silencer: Silencer | None = None,
) -> Report:
    """Finish a run: each unit not done starts at the phase recorded for it (``STEPS``): units
    never started run normally, units caught mid-change go on from their recorded backup; done
    units are left alone."""
    with connect(ctx.state_dir) as conn:
        run = runs.get(conn, run_id)
        if runs.alive(run):
            raise StateError(f"run {run.id} is still running (pid {run.pid})")
        records = {(r.unit, r.device): r for r in runs.units(conn, run.id)}
        runs.claim(conn, run.id)
        audit.append(
            conn,
            ctx.state_dir,
            "run-resume",
            {"pending": sum(1 for r in records.values() if not r.finished)},
            run_id=run.id,
        )
    todo: list[tuple[PlanUnit, Phase]] = []
    for planned in plan.units:
        record = records.get((planned.id, planned.device))
        if record is not None and not record.finished:
            todo.append((planned, record.phase))
    applier = Applier(ctx, run.id, plan.scope.segment, options, units=[u for u, _ in todo])
    return _run(applier, todo, len(records), hooks, stop, silencer)


def _run(
    applier: Applier,
    todo: list[tuple[PlanUnit, Phase]],
    total: int,
    hooks: Sequence[Hooks],
    stop: StopRequest | None,
    silencer: Silencer | None,
) -> Report:
    """Run the units through the runner; the run's end is recorded by its ``RunEnd`` hook."""
    ctx, run_id, options = applier.ctx, applier.run_id, applier.options
    parent = os.getpid()

    def make() -> Work[Job[tuple[PlanUnit, Phase]], UnitResult[None]]:
        worker = applier if os.getpid() == parent else applier.twin()  # a forked worker: its own
        return worker.apply_unit, (lambda: None) if worker is applier else worker.close

    def unstarted(job: Job[tuple[PlanUnit, Phase]], why: str) -> UnitResult[None]:
        if why == "threshold":
            return applier.finish(job.unit, job.device, "skipped", THRESHOLD)
        resume_hint = f"govnet rollout resume {run_id}"  # left pending in the store
        return UnitResult(
            job.unit,
            job.device,
            "skipped",
            f"not started: govnet was stopped ({why}); {resume_hint}",
            "pending",
        )

    if options.processes > 1 and len(todo) > 1:
        ctx.compile_templates()  # once, before the fork
    silences = Silences(
        silencer,
        ctx.inventory,
        run_id,
        applier.segment,
        wanted=lambda job: job.item[0].status != "refused",
    )
    runner = Runner(
        make,
        concurrency=options.concurrency,
        processes=options.processes,
        canary=Canary(options.canary),
        threshold=FailureThreshold(options.max_failures),
        stop=stop or StopRequest(),
        hooks=[silences, *hooks, RunEnd(ctx.state_dir, run_id)],
        unstarted=unstarted,
        total=total,
    )
    jobs = [Job(u.id, u.device, (u, phase)) for u, phase in todo]
    try:
        out = runner.run(jobs)
    except StateError as exc:
        raise StateError(
            f"{next(iter(exc.lines()))}; run {run_id} stopped: every unit's state up to here is recorded "
            f"(fix the store, then govnet rollout resume {run_id})"
        ) from None
    finally:
        applier.close()
    return Report(run_id, out.results, out.stopped, out.interrupted)
