"""``rollout plan``: read each device's running config, render its intent, compute the change.

A unit without its registration (备案) or signed security-responsibility agreement is refused
here (the policy gate), with the reason; so is a device whose running config cannot be read.
Reading happens in a bounded thread pool; the running config read is kept as a backup, so
``--offline`` plans can later be made from it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from govnet.errors import GovnetError
from govnet.inventory.models import Device, Node, Unit
from govnet.inventory.select import select
from govnet.rollout.context import Context, scoped_text
from govnet.rollout.planfile import FORMAT, Plan, PlanUnit, Scope, inventory_hash, templates_hash
from govnet.rollout.remediate import remediate, running_hash
from govnet.rollout.review import mask_line
from govnet.rollout.runner import Hooks, Job, Runner, UnitResult
from govnet.rollout.runs import Result
from govnet.rollout.workers import Work
from govnet.state import backups
from govnet.state.audit import current_user
from govnet.state.db import connect, transaction

POLICY = {
    "registration": "refused by policy: no application-system registration (备案) on file",
    "agreement": "refused by policy: no signed security-responsibility agreement on file",
}


def elements_in_scope(ctx: Context, segment: str, wave: int | None, ids: list[str]) -> list[Unit | Node]:
    """Units of the segment (filtered by wave and ids); nodes too when no filter narrows it."""
    unit_ids = [i for i in ids if ctx.inventory.unit(i)]
    units: list[Unit | Node] = (
        [] if ids and not unit_ids else list(select(ctx.inventory, segment=segment, wave=wave, ids=unit_ids))
    )  # naming only nodes must not select every unit
    nodes = [n for n in ctx.inventory.nodes if segment in n.segments]
    if ids:
        wanted = set(ids)
        known = {e.id for e in [*ctx.inventory.units, *ctx.inventory.nodes]} | {
            e.slug for e in ctx.inventory.units
        }
        unknown = sorted(wanted - known)
        if unknown:
            raise GovnetError(f"unknown unit '{unknown[0]}'")
        nodes = [n for n in nodes if n.id in wanted]
    elif wave is not None:
        nodes = []
    return [*nodes, *units]


def _one(ctx: Context, element: Unit | Node, device: Device, segment: str, offline: bool) -> PlanUnit:
    base = {"id": element.id, "device": device.name, "platform": device.platform, "host": str(device.host)}
    if isinstance(element, Unit) and element.paperwork_missing:
        return PlanUnit(**base, status="refused", reason=POLICY[element.paperwork_missing[0]])
    rendered = ctx.render(element, device)
    intended = scoped_text(rendered, segment)
    if offline:
        with connect(ctx.state_dir) as conn:
            last = backups.latest(conn, device.name)
            if last is None:
                return PlanUnit(
                    **base,
                    status="refused",
                    reason="no backup to plan from (plan online, or run govnet config backup)",
                )
            running = backups.get_blob(conn, last.hash)
    else:
        try:
            with ctx.session(device) as session:
                running = session.running_config()
        except GovnetError as exc:
            return PlanUnit(
                **base, status="refused", reason=f"cannot read the running config: {next(iter(exc.lines()))}"
            )
        with connect(ctx.state_dir) as conn, transaction(conn):
            backups.save(conn, element.id, device.name, running, "plan-read")
    fix = remediate(device.platform, running, intended)
    return PlanUnit(
        **base,
        status="nochange" if fix.empty else "change",
        commands=fix.commands,
        running_hash=running_hash(device.platform, running),
        missing=len(fix.missing),
        extra=len(fix.extra),
        kinds={k: list(v) for k, v in fix.kinds.items()},
        added=[mask_line(line) for line in fix.missing],
        removed=[mask_line(line) for line in fix.extra],
    )


def build_plan(
    ctx: Context,
    segment: str,
    *,
    wave: int | None = None,
    ids: list[str] | None = None,
    offline: bool = False,
    concurrency: int = 20,
    processes: int = 1,
    hooks: Sequence[Hooks] = (),
) -> Plan:
    """``concurrency`` devices read at once by the runner, shared by ``processes`` worker
    processes (``govnet.rollout.workers``; 1: this process's threads)."""
    targets = elements_in_scope(ctx, segment, wave, ids or [])
    pairs = [(e, d) for e in targets for d in e.devices_on(segment)]
    for element, device in pairs:  # a broken template fails the whole plan before any device is contacted
        ctx.render(element, device)

    def one(job: Job[int]) -> UnitResult[PlanUnit]:
        planned = _one(ctx, *pairs[job.item], segment, offline)
        status: Result = "skipped" if planned.status == "refused" else "ok"
        return UnitResult(job.unit, job.device, status, planned.reason, value=planned)

    def make() -> Work[Job[int], UnitResult[PlanUnit]]:
        return one, lambda: None  # jobs carry an index: a worker process has the pairs from the fork

    runner: Runner[int, PlanUnit] = Runner(
        make, concurrency=max(1, min(concurrency, len(pairs) or 1)), processes=processes, hooks=hooks
    )
    out = runner.run([Job(e.id, d.name, index) for index, (e, d) in enumerate(pairs)])
    planned = [r.value for r in out.ordered() if r.value is not None]
    return Plan(
        format=FORMAT,
        created=time.time(),
        user=current_user(),
        inventory=str(ctx.inventory_path),
        inventory_hash=inventory_hash(ctx.inventory_path),
        templates=str(ctx.templates),
        templates_hash=templates_hash(ctx.templates),
        scope=Scope(segment=segment, wave=wave, units=ids or [], offline=offline),
        units=planned,
    )
