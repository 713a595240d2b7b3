"""``rollout plan``: read each device's running config, render its intent, compute the change.

A unit without its registration (备案) or signed security-responsibility agreement is refused
here (the policy gate), with the reason; so is a device whose running config cannot be read.
Reading happens in a bounded thread pool; the running config read is kept as a backup, so
``--offline`` plans can later be made from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import as_completed
from dataclasses import dataclass

from govnet.errors import GovnetError
from govnet.inventory.models import Device, Node, Unit
from govnet.inventory.select import select
from govnet.rollout.context import Context, scoped_text
from govnet.rollout.planfile import FORMAT, Plan, PlanUnit, Scope, inventory_hash, templates_hash
from govnet.rollout.remediate import remediate, running_hash
from govnet.rollout.review import mask_line
from govnet.rollout.workers import Work, Workers
from govnet.state import backups
from govnet.state.audit import current_user
from govnet.state.db import connect, transaction

POLICY = {
    "registration": "refused by policy: no application-system registration (备案) on file",
    "agreement": "refused by policy: no signed security-responsibility agreement on file",
}


@dataclass(frozen=True)
class Job:
    element: Unit | Node
    device: Device


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


def _one(ctx: Context, job: Job, segment: str, offline: bool) -> PlanUnit:
    element, device = job.element, job.device
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
    progress: Callable[[PlanUnit], None] | None = None,
) -> Plan:
    """``concurrency`` devices read at once, shared by ``processes`` worker processes
    (``govnet.rollout.workers``; 1: this process's threads)."""
    targets = elements_in_scope(ctx, segment, wave, ids or [])
    jobs = [Job(e, d) for e in targets for d in e.devices_on(segment)]
    for job in jobs:  # a broken template fails the whole plan before any device is contacted
        ctx.render(job.element, job.device)

    def make() -> Work[int, PlanUnit]:
        return (lambda index: _one(ctx, jobs[index], segment, offline)), lambda: None

    processes = max(1, min(processes, concurrency, len(jobs)))
    with Workers(make, processes, -(-max(1, min(concurrency, len(jobs) or 1)) // processes)) as pool:
        futures = [pool.submit(index) for index in range(len(jobs))]
        for future in as_completed(futures):
            if progress is not None:
                progress(future.result())
        planned = [future.result() for future in futures]
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
