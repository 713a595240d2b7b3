"""``govnet rollout`` (plan, apply, status, resume, rollback) and ``govnet config`` (backups, diff)."""

from __future__ import annotations

import difflib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from govnet.cli.common import emit_json, inventory_option, json_option, load_inventory, state_option, table
from govnet.cli.progress import progress, quiet_option
from govnet.devices.normalise import stable_text
from govnet.devices.session import Timeouts
from govnet.errors import GovnetError, UsageError
from govnet.export import silences
from govnet.inventory.models import SEGMENTS
from govnet.rollout import apply as applying
from govnet.rollout import backup as backing_up
from govnet.rollout import planfile, review, runs
from govnet.rollout.context import Context, default_known_hosts
from govnet.rollout.lock import exclusive
from govnet.rollout.plan import build_plan
from govnet.rollout.rollback import rollback
from govnet.rollout.runner import FailureThreshold, UnitResult
from govnet.rollout.stopping import StopRequest, on_signals
from govnet.rollout.workers import default_processes
from govnet.settings import settings
from govnet.state import backups
from govnet.state.db import connect

EXIT_UNITS_FAILED = 3
EXIT_SIGNALLED = {"SIGTERM": 143, "SIGINT": 130}


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--known-hosts",
        "known_hosts",
        type=click.Path(path_type=Path, dir_okay=False),
        help="OpenSSH known_hosts to check device host keys against (default: $GOVNET_KNOWN_HOSTS, "
        "a known_hosts beside the inventory, or ~/.ssh/known_hosts).",
    )(func)
    func = click.option(
        "--templates",
        type=click.Path(path_type=Path, file_okay=False),
        default=lambda: settings().templates,
        show_default="configs/",
        help="Folder of configuration templates.",
    )(func)
    return state_option(inventory_option(func))


def context(inventory_path: Path, templates: Path, state_dir: Path, known_hosts: Path | None) -> Context:
    inventory = load_inventory(inventory_path).inventory
    if not templates.is_dir():
        raise GovnetError(f"{templates}: no templates folder (set --templates)")
    return Context(
        inventory_path, inventory, templates, state_dir, known_hosts or default_known_hosts(inventory_path)
    )


processes_option = click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=default_processes(),
    show_default="one per core, at most 4",
    help="Worker processes sharing --concurrency (SSH is CPU-bound in Python); 1: threads only.",
)


@click.group("rollout")
def rollout_group() -> None:
    """Plan, apply, watch, resume and roll back configuration rollouts."""


@rollout_group.command("plan")
@common
@processes_option
@click.option("--segment", required=True, type=click.Choice(SEGMENTS))
@click.option("--wave", type=click.IntRange(1, 99), help="Only extranet units of this wave.")
@click.option("--unit", "units", multiple=True, help="Only these units (repeatable).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the plan file here.")
@click.option("--offline", is_flag=True, help="Plan from the last backups instead of reading the devices.")
@click.option("--concurrency", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option(
    "--summary", is_flag=True, help="One line per unit (+added -removed) instead of each unit's diff."
)
@quiet_option
@json_option
def plan_cmd(
    inventory_path: Path,
    templates: Path,
    state_dir: Path,
    known_hosts: Path | None,
    segment: str,
    wave: int | None,
    units: tuple[str, ...],
    out: Path | None,
    offline: bool,
    concurrency: int,
    processes: int,
    summary: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Read running configs, render the intent, and show what would change per unit, as a diff
    (secrets masked; --summary: one line per unit)."""
    ctx = context(inventory_path, templates, state_dir, known_hosts)
    with progress("reading devices", quiet, _planned) as hooks:
        plan = build_plan(
            ctx,
            segment,
            wave=wave,
            ids=list(units),
            offline=offline,
            concurrency=concurrency,
            processes=processes,
            hooks=hooks,
        )
    if out is not None:
        planfile.write(plan, out)
    if as_json:
        _plan_json(plan, out)
        return
    _print_plan(plan, summary)
    click.echo(
        _counts(plan)
        + (
            f"; written to {out} (apply with: govnet rollout apply {out})"
            if out
            else " (use --out to save it)"
        )
    )


def _planned(result: UnitResult[Any]) -> str:
    """A planned unit in the progress: ``change +24 -0``, ``nochange`` or ``refused``."""
    planned = result.value
    if not isinstance(planned, planfile.PlanUnit):
        return result.status
    return f"change +{planned.missing} -{planned.extra}" if planned.status == "change" else planned.status


def _plan_json(plan: planfile.Plan, out: Path | None) -> None:
    emit_json(
        {
            "plan": str(out) if out else None,
            "units": [
                u.model_dump(
                    include={
                        "id",
                        "device",
                        "status",
                        "commands",
                        "reason",
                        "missing",
                        "extra",
                        "added",
                        "removed",
                    }
                )
                for u in plan.units
            ],
        }
    )


def _counts(plan: planfile.Plan) -> str:
    counts = planfile.summary(plan)
    return f"plan: {counts['change']} to change, {counts['nochange']} unchanged, {counts['refused']} refused"


def _print_plan(plan: planfile.Plan, summary: bool) -> None:
    """One table row per unit with ``summary``, else each unit's diff (coloured on a terminal)."""
    if summary:
        table(
            None,
            ["unit", "device", "status", "+/-", "reason"],
            [
                [
                    u.id,
                    u.device,
                    u.status,
                    f"+{u.missing} -{u.extra}" if u.status == "change" else "",
                    u.reason,
                ]
                for u in plan.units
            ],
        )
        return
    colour = review.use_colour(sys.stdout.isatty(), os.environ)
    for line in review.plan_lines(plan):
        click.echo(review.paint(line) if colour else line, color=colour)


@rollout_group.command("show")
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--summary", is_flag=True, help="One line per unit instead of each unit's diff.")
def show_cmd(plan_path: Path, summary: bool) -> None:
    """Print a saved plan as ``rollout plan`` did: each unit's diff (secrets masked)."""
    plan, _ = planfile.read(plan_path)
    _print_plan(plan, summary)
    made = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(plan.created))
    click.echo(
        f"{_counts(plan)} on {plan.scope.segment}, made by {plan.user} at {made}; "
        f"apply with: govnet rollout apply {plan_path}"
    )


def _check_fresh(plan: planfile.Plan, ctx: Context, plan_path: Path) -> None:
    if planfile.inventory_hash(ctx.inventory_path) != plan.inventory_hash:
        raise GovnetError(f"{plan_path}: stale: the inventory changed since this plan was made (plan again)")
    if planfile.templates_hash(ctx.templates) != plan.templates_hash:
        raise GovnetError(f"{plan_path}: stale: the templates changed since this plan was made (plan again)")
    for index, planned in enumerate(plan.units):
        element = ctx.inventory.element(planned.id)
        if element is None or all(d.name != planned.device for d in element.devices):
            what = (
                f"unit '{planned.id}'" if element is None else f"device '{planned.device}' of '{planned.id}'"
            )
            raise GovnetError(
                f"{plan_path}: units[{index}]: {what} is not in the inventory {ctx.inventory_path}"
            )


def _options(
    concurrency: int, canary: int, max_failures: str, no_reachability: bool, processes: int
) -> applying.Options:
    threshold = FailureThreshold.parse(max_failures)
    return applying.Options(
        concurrency, canary, threshold.max_failures, not no_reachability, processes=processes
    )


def _report(
    report: applying.Report, as_json: bool, bad_results: tuple[str, ...] = ("failed", "restored")
) -> None:
    if as_json:
        emit_json(report.as_dict())
    else:
        table(
            None,
            ["unit", "device", "result", "reason"],
            [[o.unit, o.device, o.status, o.reason] for o in report.outcomes],
        )
        click.echo(
            f"run {report.run_id}: "
            + report.summary.text()
            + (" — stopped: failures passed --max-failures" if report.stopped else "")
        )
    if report.interrupted:
        left = sum(1 for o in report.outcomes if o.reason.startswith("not started"))
        click.echo(
            f"govnet: stopped by {report.interrupted}: units in flight were finished or restored, "
            f"{left} not started; finish with: govnet rollout resume {report.run_id}",
            err=True,
        )
        sys.exit(EXIT_SIGNALLED.get(report.interrupted, 1))
    bad = [o for o in report.outcomes if o.status in bad_results]
    if bad:
        click.echo(
            f"govnet: {len(bad)} unit(s) failed or were restored (see the table; govnet rollout status {report.run_id})",
            err=True,
        )
        sys.exit(EXIT_UNITS_FAILED)


alertmanager_option = click.option(
    "--alertmanager",
    "alertmanager",
    metavar="URL",
    help="Silence each wave's units on this Alertmanager while they change "
    "(default: $GOVNET_ALERTMANAGER_URL; unreachable: a warning, the rollout goes on).",
)


def _silencer(url: str | None) -> silences.Silencer | None:
    return silences.from_option(url, lambda message: click.echo(f"govnet: warning: {message}", err=True))


def apply_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--concurrency", type=click.IntRange(1, 200), default=10, show_default=True),
            processes_option,
            click.option(
                "--canary",
                type=click.IntRange(0, 1000),
                default=1,
                show_default=True,
                help="Units changed one by one before the rest.",
            ),
            click.option(
                "--max-failures",
                default="10%",
                show_default=True,
                help="Stop after more failures than N or PCT%.",
            ),
            click.option(
                "--no-reachability", is_flag=True, help="Skip the ICMP check of the unit after its change."
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(0.1, 3600),
                default=Timeouts.command,
                show_default=True,
                help="Seconds a device may take to answer one command (login included); "
                "a slower device fails its unit with a timeout (saving may take longer).",
            ),
            click.option("--yes", is_flag=True, help="Do not ask; required when not on a terminal."),
            alertmanager_option,
            quiet_option,
        ]
    ):
        func = option(func)
    return func


@rollout_group.command("apply")
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path, dir_okay=False))
@common
@apply_options
@json_option
def apply_cmd(
    plan_path: Path,
    inventory_path: Path,
    templates: Path,
    state_dir: Path,
    known_hosts: Path | None,
    concurrency: int,
    processes: int,
    canary: int,
    max_failures: str,
    no_reachability: bool,
    timeout: float,
    yes: bool,
    alertmanager: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Apply a plan: back up, push, save, verify each unit; restore on failure."""
    options = _options(concurrency, canary, max_failures, no_reachability, processes)
    silencer = _silencer(alertmanager)
    plan, plan_hash = planfile.read(plan_path)
    ctx = (
        context(Path(plan.inventory), Path(plan.templates), state_dir, known_hosts)
        if inventory_path == Path(settings().inventory)
        else context(inventory_path, templates, state_dir, known_hosts)
    )
    ctx.timeouts = _timeouts(timeout)
    _check_fresh(plan, ctx, plan_path)
    _confirm(yes, f"apply {plan_path}: {len(plan.changes)} unit(s) to change on {plan.scope.segment}?")
    with (
        exclusive(state_dir, f"rollout apply {plan_path}"),
        on_signals(StopRequest()) as stop,
        progress("applying", quiet) as hooks,
    ):
        report = applying.start(ctx, plan, str(plan_path), plan_hash, options, hooks, stop, silencer)
    _report(report, as_json)


def _timeouts(command: float) -> Timeouts:
    """``--timeout`` bounds each answer; saving keeps its longer default (flash writes)."""
    return Timeouts(connect=Timeouts.connect, command=command, save=max(command, Timeouts.save))


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("not on a terminal: pass --yes to apply without asking")
    if not click.confirm(question, default=False):
        raise click.Abort()


@rollout_group.command("status")
@click.argument("run_id", metavar="[RUN]", required=False)
@state_option
@json_option
def status_cmd(run_id: str | None, state_dir: Path, as_json: bool) -> None:
    """A run's units with their phase and result (default: the newest run)."""
    with connect(state_dir, create=False) as conn:
        run = runs.get(conn, run_id)
        records = runs.units(conn, run.id)
        recent = runs.recent(conn, 5)
    state = (
        run.status
        if run.status != "running" or runs.alive(run)
        else "interrupted (govnet was killed: resume it)"
    )
    data = {
        "run": run.id,
        "kind": run.kind,
        "status": state,
        "user": run.user,
        "created": run.created,
        "finished": run.finished,
        "plan": run.plan_path,
        "scope": run.scope,
        "units": [
            {
                "id": r.unit,
                "device": r.device,
                "phase": r.phase,
                "result": r.result,
                "reason": r.reason,
                "backup": r.before_hash,
                "after": r.after_hash,
                "attention": r.needs_attention,
            }
            for r in records
        ],
    }
    if as_json:
        emit_json(data)
        return
    click.echo(
        f"run {run.id} ({run.kind}, {state}) by {run.user} at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(run.created))}"
    )
    table(
        None,
        ["unit", "device", "phase", "result", "reason"],
        [[r.unit, r.device, r.phase, r.result or "", r.reason] for r in records],
    )
    attention = [r for r in records if r.needs_attention]
    if attention:
        click.echo(
            f"{len(attention)} unit(s) need attention (may hold part of the change; pre-change backup "
            f"kept): {', '.join(r.unit for r in attention)}; "
            + (
                f"govnet rollout resume {run.id} finishes or restores them"
                if any(not r.finished for r in attention)
                else f"once they answer again, govnet rollout rollback {run.id} restores them"
            )
        )
    if run_id is None and len(recent) > 1:
        click.echo("recent runs: " + ", ".join(f"{r.id} ({r.kind}, {r.status})" for r in recent))


@rollout_group.command("resume")
@click.argument("run_id", metavar="RUN")
@common
@apply_options
@json_option
def resume_cmd(
    run_id: str,
    inventory_path: Path,
    templates: Path,
    state_dir: Path,
    known_hosts: Path | None,
    concurrency: int,
    processes: int,
    canary: int,
    max_failures: str,
    no_reachability: bool,
    timeout: float,
    yes: bool,
    alertmanager: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Finish a run that was stopped or killed; units recorded done are never pushed again."""
    options = _options(concurrency, canary, max_failures, no_reachability, processes)
    silencer = _silencer(alertmanager)
    with connect(state_dir, create=False) as conn:
        run = runs.get(conn, run_id)
    if run.kind != "apply" or not run.plan_path:
        raise GovnetError(f"run {run.id} is a {run.kind}; only apply runs can be resumed")
    plan, _ = planfile.read(Path(run.plan_path))
    ctx = context(Path(plan.inventory), Path(plan.templates), state_dir, known_hosts)
    ctx.timeouts = _timeouts(timeout)
    _check_fresh(plan, ctx, Path(run.plan_path))
    _confirm(yes, f"resume run {run.id}?")
    with (
        exclusive(state_dir, f"rollout resume {run.id}"),
        on_signals(StopRequest()) as stop,
        progress("resuming", quiet) as hooks,
    ):
        report = applying.resume(ctx, plan, run.id, options, hooks, stop, silencer)
    _report(report, as_json)


@rollout_group.command("rollback")
@click.argument("run_id", metavar="RUN")
@common
@click.option("--yes", is_flag=True, help="Do not ask; required when not on a terminal.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="Units restored at once.",
)
@alertmanager_option
@quiet_option
@json_option
def rollback_cmd(
    run_id: str,
    inventory_path: Path,
    templates: Path,
    state_dir: Path,
    known_hosts: Path | None,
    yes: bool,
    concurrency: int,
    alertmanager: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Restore the pre-change backups of every unit a run changed."""
    silencer = _silencer(alertmanager)
    with connect(state_dir, create=False) as conn:
        run = runs.get(conn, run_id)
    plan_inventory = inventory_path
    if run.plan_path and Path(run.plan_path).exists():
        plan, _ = planfile.read(Path(run.plan_path))
        plan_inventory, templates = Path(plan.inventory), Path(plan.templates)
    ctx = context(plan_inventory, templates, state_dir, known_hosts)
    _confirm(yes, f"roll back run {run.id}?")
    with exclusive(state_dir, f"rollout rollback {run.id}"), progress("rolling back", quiet) as hooks:
        report = rollback(ctx, run.id, hooks, silencer, concurrency=concurrency)
    _report(report, as_json, ("failed",))


@click.group("config")
def config_group() -> None:
    """Device configurations: backups, their history, and the difference from the intent."""


@config_group.command("backup")
@click.argument("units", nargs=-1)
@common
@click.option("--segment", type=click.Choice(SEGMENTS), help="Every unit of this segment.")
@click.option(
    "--concurrency", type=click.IntRange(1, 200), default=10, show_default=True, help="Devices read at once."
)
@quiet_option
@json_option
def backup_cmd(
    units: tuple[str, ...],
    inventory_path: Path,
    templates: Path,
    state_dir: Path,
    known_hosts: Path | None,
    segment: str | None,
    concurrency: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Read and store the running config of units (all units of --segment, or the ones named)."""
    ctx = context(inventory_path, templates, state_dir, known_hosts)
    targets = backing_up.chosen(ctx, units, segment)
    with progress("backing up", quiet) as hooks:
        results = backing_up.backup(ctx, targets, concurrency=concurrency, hooks=hooks)
    rows = [r.value for r in results if r.value is not None]
    if as_json:
        emit_json(rows)
    else:
        table(
            None,
            ["unit", "device", "backup", "changed", "detail"],
            [
                [
                    r["unit"],
                    r["device"],
                    r.get("hash", "")[:12],
                    "yes" if r.get("changed") else "",
                    r["detail"],
                ]
                for r in rows
            ],
        )
    if any(r.failed for r in results):
        sys.exit(EXIT_UNITS_FAILED)


def _element(ctx: Context, ident: str) -> Any:
    return backing_up.element(ctx, ident)


@config_group.command("history")
@click.argument("unit")
@common
@json_option
def history_cmd(
    unit: str, inventory_path: Path, templates: Path, state_dir: Path, known_hosts: Path | None, as_json: bool
) -> None:
    """Every stored backup of a unit's devices, oldest first."""
    element = _element(context(inventory_path, templates, state_dir, known_hosts), unit)
    with connect(state_dir, create=False) as conn:
        found = [b for d in element.devices for b in backups.history(conn, d.name)]
    rows: list[dict[str, Any]] = [
        {"device": b.device, "taken": b.taken, "reason": b.reason, "run": b.run_id, "hash": b.hash}
        for b in found
    ]
    if as_json:
        emit_json(rows)
        return
    table(
        None,
        ["taken", "device", "reason", "run", "backup"],
        [
            [
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["taken"])),
                r["device"],
                r["reason"],
                r["run"] or "",
                r["hash"][:12],
            ]
            for r in rows
        ],
    )


@config_group.command("diff")
@click.argument("unit")
@common
@click.option("--live", is_flag=True, help="Read the running config now instead of using the last backup.")
def diff_cmd(
    unit: str, inventory_path: Path, templates: Path, state_dir: Path, known_hosts: Path | None, live: bool
) -> None:
    """Unified diff from a unit's running config (last backup, or --live) to its intended config.

    Exits 1 when there is a difference, 0 when none, like diff(1); volatile lines (timestamps,
    clock periods) are left out of both sides, so they are never a difference."""
    ctx = context(inventory_path, templates, state_dir, known_hosts)
    element = _element(ctx, unit)
    differs = False
    for device in element.devices:
        if live:
            with ctx.session(device) as session:
                running, label = session.running_config(), "running (live)"
        else:
            with connect(state_dir, create=False) as conn:
                last = backups.latest(conn, device.name)
                if last is None:
                    raise GovnetError(
                        f"{device.name}: no backup yet (govnet config backup {unit}, or use --live)"
                    )
                running, label = backups.get_blob(conn, last.hash), f"backup {last.hash[:12]}"
        intended = ctx.render(element, device).text
        lines = list(
            difflib.unified_diff(
                stable_text(device.platform, running).splitlines(),
                stable_text(device.platform, intended).splitlines(),
                f"{device.name} {label}",
                f"{device.name} intended",
                lineterm="",
            )
        )
        differs = differs or bool(lines)
        click.echo("\n".join(ctx.resolver.mask(line) for line in lines) or f"{device.name}: no difference")
    if differs:
        sys.exit(1)
