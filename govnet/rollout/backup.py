"""``config backup``: read and store the running config of many devices, ``concurrency`` at once.

It read one device after the other inside the CLI; through the runner it reads them as a plan
does (a bounded thread pool, one result per device, progress from the runner's hooks), and a
city's backup takes about as long as its slowest ``ceil(devices / concurrency)`` logins
(bench/README.md, "config backup"). A device that cannot be read is a failed result with the
reason; the others are stored all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govnet.errors import GovnetError, UsageError
from govnet.inventory.models import Device, Node, Unit
from govnet.rollout.context import Context
from govnet.rollout.plan import elements_in_scope
from govnet.rollout.runner import Hooks, Job, Runner, UnitResult
from govnet.rollout.workers import Work
from govnet.state import backups
from govnet.state.db import connect, transaction

REASON = "on-demand"
Row = dict[str, Any]
"""What ``config backup --json`` prints per device: unit, device, ok, hash, changed, detail."""


def element(ctx: Context, ident: str) -> Unit | Node:
    """A unit or node by id; a clear error for an unknown one."""
    found = ctx.inventory.element(ident)
    if found is None:
        raise GovnetError(f"unknown unit '{ident}'")
    return found


def chosen(ctx: Context, units: Sequence[str], segment: str | None) -> list[Unit | Node]:
    """The named units, or every unit and node of ``segment`` (the named ones among them)."""
    if not units and segment is None:
        raise UsageError("name units or give --segment")
    if segment:
        return elements_in_scope(ctx, segment, None, list(units))
    return [element(ctx, u) for u in units]


def back_up(ctx: Context, unit: Unit | Node, device: Device) -> UnitResult[Row]:
    """Read one device and store its running config; ``changed`` when it differs from the
    device's newest backup, ``ok`` when not, ``failed`` with the reason when it cannot be read."""
    try:
        with ctx.session(device) as session:
            text = session.running_config()
    except GovnetError as exc:
        reason = next(iter(exc.lines()))
        row = {"unit": unit.id, "device": device.name, "ok": False, "detail": reason}
        return UnitResult(unit.id, device.name, "failed", reason, value=row)
    with connect(ctx.state_dir) as conn, transaction(conn):
        last = backups.latest(conn, device.name)
        saved = backups.save(conn, unit.id, device.name, text, REASON)
    changed = last is None or last.hash != saved.hash
    row = {
        "unit": unit.id,
        "device": device.name,
        "ok": True,
        "hash": saved.hash,
        "changed": changed,
        "detail": "",
    }
    return UnitResult(unit.id, device.name, "changed" if changed else "ok", value=row)


def backup(
    ctx: Context, elements: Sequence[Unit | Node], *, concurrency: int = 10, hooks: Sequence[Hooks] = ()
) -> list[UnitResult[Row]]:
    """Back up every device of ``elements``; one result per device, in the order given."""
    pairs = [(e, d) for e in elements for d in e.devices]

    def one(job: Job[int]) -> UnitResult[Row]:
        return back_up(ctx, *pairs[job.item])

    def make() -> Work[Job[int], UnitResult[Row]]:
        return one, lambda: None

    runner: Runner[int, Row] = Runner(
        make, concurrency=max(1, min(concurrency, len(pairs) or 1)), hooks=hooks
    )
    return runner.run([Job(e.id, d.name, index) for index, (e, d) in enumerate(pairs)]).ordered()
