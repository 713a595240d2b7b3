"""``rollout rollback RUN``: put every unit a run changed back to its pre-change backup.

It is a run of its own (kind ``rollback``), recorded and audited like an apply; the device's
config afterwards is the backup taken just before the change, byte for byte (a unit whose
running config still differs in its lines is reported failed).
"""

from __future__ import annotations

from collections.abc import Sequence

from govnet.errors import GovnetError, StateError
from govnet.export.silences import Silencer
from govnet.render.secrets import substitute
from govnet.rollout import runs
from govnet.rollout.apply import Report
from govnet.rollout.context import Context
from govnet.rollout.hooks import RunEnd, Silences
from govnet.rollout.restore import differences, restore_commands, same_config
from govnet.rollout.runner import Hooks, Job, Runner, UnitResult
from govnet.rollout.runs import Result
from govnet.rollout.workers import Work
from govnet.state import audit, backups
from govnet.state.db import connect


def rollback(
    ctx: Context,
    run_id: str,
    hooks: Sequence[Hooks] = (),
    silencer: Silencer | None = None,
    concurrency: int = 10,
) -> Report:
    """Roll back every unit ``run_id`` changed (and every unit it left needing attention),
    ``concurrency`` at a time; one silence over them all while it runs. No canary and no failure
    threshold: each unit goes back to its own backup whatever became of another."""
    with connect(ctx.state_dir) as conn:
        run = runs.get(conn, run_id)
        if runs.alive(run):
            raise StateError(f"run {run.id} is still running (pid {run.pid}); wait for it first")
        changed = [
            r
            for r in runs.units(conn, run.id)
            if r.before_hash and (r.result == "changed" or (r.finished and r.needs_attention))
        ]
        if not changed:
            raise StateError(f"run {run.id} changed no unit: nothing to roll back")
        segment = str(run.scope.get("segment", ""))
        back_id = runs.create(
            conn,
            "rollback",
            None,
            None,
            {"of": run.id, "segment": segment},
            {},
            [(r.unit, r.device, 1, []) for r in changed],
        )
        audit.append(
            conn, ctx.state_dir, "rollback-start", {"of": run.id, "units": len(changed)}, run_id=back_id
        )

    def make() -> Work[Job[str], UnitResult[None]]:
        return (lambda job: _one(ctx, back_id, job.unit, job.device, job.item)), lambda: None

    runner: Runner[str, None] = Runner(
        make,
        concurrency=max(1, min(concurrency, len(changed))),
        hooks=[
            Silences(silencer, ctx.inventory, back_id, segment, names={"main": "rollback"}),
            *hooks,
            RunEnd(ctx.state_dir, back_id, "rollback-end", of=run.id),
        ],
    )
    out = runner.run([Job(r.unit, r.device, str(r.before_hash)) for r in changed])
    return Report(back_id, out.results, False)


def _one(ctx: Context, run_id: str, unit: str, device_name: str, before: str) -> UnitResult[None]:
    def done(result: Result, reason: str = "") -> UnitResult[None]:
        with connect(ctx.state_dir) as conn:
            runs.set_phase(conn, run_id, unit, device_name, "done", result=result, reason=reason)
        return UnitResult(unit, device_name, result, reason)

    try:
        element = ctx.element(unit)
        device = ctx.device(element, device_name)
        with connect(ctx.state_dir) as conn:
            backup = backups.get_blob(conn, before)
        with ctx.session(device) as session:
            commands = restore_commands(device.platform, session.running_config(), backup)
            with connect(ctx.state_dir) as conn:
                audit.append(
                    conn,
                    ctx.state_dir,
                    "rollback",
                    {"device": device_name, "commands": commands, "backup": before},
                    run_id=run_id,
                    unit=unit,
                )
            if commands:
                session.push(substitute(commands, ctx.resolver.resolve))
                session.save()
            after = session.running_config()
    except (GovnetError, KeyError, StopIteration) as exc:
        reason = (
            next(iter(exc.lines()))
            if isinstance(exc, GovnetError)
            else f"{unit}/{device_name} is no longer in the inventory"
        )
        return done("failed", f"rollback failed: {reason}; backup {before[:12]} is in the store")
    if not same_config(device.platform, after, backup):
        differ = differences(device.platform, after, backup)
        if differ:
            return done("failed", f"rolled back, but {differ} line(s) still differ from backup {before[:12]}")
        return done(
            "ok", "rolled back to the pre-change backup (same lines; the device shows them in another order)"
        )
    return done("ok", "rolled back to the pre-change backup")
