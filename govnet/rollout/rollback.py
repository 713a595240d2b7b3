"""``rollout rollback RUN``: put every unit a run changed back to its pre-change backup.

It is a run of its own (kind ``rollback``), recorded and audited like an apply; the device's
config afterwards is the backup taken just before the change, byte for byte (a unit whose
running config still differs in its lines is reported failed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from govnet.errors import GovnetError, StateError
from govnet.export.silences import Silencer
from govnet.render.secrets import substitute
from govnet.rollout import runs
from govnet.rollout.apply import Outcome, Report
from govnet.rollout.context import Context
from govnet.rollout.restore import differences, restore_commands, same_config
from govnet.state import audit, backups
from govnet.state.db import connect


def rollback(
    ctx: Context,
    run_id: str,
    on_done: Callable[[Outcome], None] | None = None,
    silencer: Silencer | None = None,
) -> Report:
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
    outcomes = []
    with _silenced(ctx, silencer, back_id, segment, [r.unit for r in changed]):
        for record in changed:
            outcome = _one(ctx, back_id, segment, record.unit, record.device, str(record.before_hash))
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
    with connect(ctx.state_dir) as conn:
        runs.finish(conn, back_id, "done")
        audit.append(conn, ctx.state_dir, "rollback-end", {"of": run.id}, run_id=back_id)
    return Report(back_id, outcomes, False)


def _silenced(
    ctx: Context, silencer: Silencer | None, run_id: str, segment: str, units: list[str]
) -> contextlib.AbstractContextManager[object]:
    """One silence over every unit being rolled back (and the units behind them)."""
    if silencer is None:
        return contextlib.nullcontext()
    ids = set(units)
    ids |= {u.id for u in ctx.inventory.units if u.parent in ids and segment in u.segments}
    silencer.run_id = run_id
    return silencer.wave(sorted(ids), "rollback")


def _one(ctx: Context, run_id: str, segment: str, unit: str, device_name: str, before: str) -> Outcome:
    def done(result: str, reason: str = "") -> Outcome:
        with connect(ctx.state_dir) as conn:
            runs.set_phase(conn, run_id, unit, device_name, "done", result=result, reason=reason)
        return Outcome(unit, device_name, result, reason)

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
