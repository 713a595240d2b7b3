"""``govnet config drift``: the daemon's drift check, on demand, with the remediation per unit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from govnet.cli.common import emit_json, json_option, table
from govnet.cli.progress import progress, quiet_option
from govnet.cli.rollout import EXIT_UNITS_FAILED, common, config_group, context
from govnet.compliance.check import DeviceCheck, UnitReport, check, targets
from govnet.inventory.models import SEGMENTS
from govnet.rollout.runner import UnitResult

EXIT_DRIFT = EXIT_UNITS_FAILED
"""3: some unit drifted or could not be read (unknown); 0 when every unit checked is compliant or
only pending rollout (a part govnet has never applied is not yet built, not drift)."""


@click.command("drift")
@click.argument("units", nargs=-1)
@common
@click.option(
    "--segment", type=click.Choice(SEGMENTS), help="Units and nodes of this segment, its scope only."
)
@click.option("--concurrency", type=click.IntRange(1, 200), default=10, show_default=True)
@quiet_option
@json_option
def drift_cmd(
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
    """Compare running configs with the intent; print what drifted and the remediation.

    A unit whose intent differs only in parts govnet has never applied to it (a segment or
    extranet wave not rolled out yet) is listed apart as pending rollout: not yet built, not drift.

    Exit 0 when every unit checked is compliant or pending rollout, 3 when one drifted or could
    not be read. Pending rollout never makes the exit code non-zero.
    """
    ctx = context(inventory_path, templates, state_dir, known_hosts)
    chosen = targets(ctx, units, segment)
    with progress("reading devices", quiet, _state) as hooks:
        reports = check(ctx, chosen, concurrency=concurrency, hooks=hooks)
    counts = {
        s: sum(1 for r in reports if r.state == s) for s in ("compliant", "drifted", "pending", "unknown")
    }
    if as_json:
        emit_json({"units": [r.as_dict() for r in reports], "summary": counts})
    else:
        _print(reports)
        click.echo(
            f"drift: {counts['compliant']} compliant, {counts['drifted']} drifted, {counts['unknown']} unknown"
            f"; {counts['pending']} pending rollout (not yet built, not drift)"
        )
    if counts["drifted"] or counts["unknown"]:
        sys.exit(EXIT_DRIFT)


def _state(result: UnitResult[Any]) -> str:
    """A checked device in the progress: ``compliant``, ``drifted``, ``pending`` or ``unknown``."""
    return result.value.state if isinstance(result.value, DeviceCheck) else result.status


def _print(reports: list[UnitReport]) -> None:
    table(
        None,
        ["unit", "config", "+/-", "drifted parts", "changed by / reason"],
        [
            [
                r.unit,
                r.state,
                f"+{r.missing} -{r.extra}" if r.state == "drifted" else "",
                ", ".join(r.drifted_categories),
                next((d.source.describe() for d in r.devices if d.source), "") or r.reason,
            ]
            for r in reports
            if r.state != "pending"
        ],
    )
    waiting = [r for r in reports if r.state == "pending"]
    if waiting:
        table(
            "pending rollout (govnet has never applied these parts: not yet built, not drift)",
            ["unit", "segments", "parts"],
            [
                [r.unit, ", ".join(s for s in r.segments if r.segment_pending(s)), ", ".join(r.pending_parts)]
                for r in waiting
            ],
        )
    for report in reports:
        fixes = report.remediation()
        for fix in fixes:
            click.echo(f"\n{report.unit} ({fix['segment']}): {fix['plan']}")
            for command in fix["commands"]:
                click.echo(f"    {command}")
        if len(fixes) > 1 and "security-baseline" in report.drifted_categories:
            click.echo(
                f"  ({report.unit}: the security baseline is in every segment's plan; the first one applied fixes it)"
            )
    if any(r.remediation() for r in reports):
        click.echo("")


def config_with_drift() -> click.Group:
    """The ``config`` group (govnet.cli.rollout) with ``drift`` added."""
    if "drift" not in config_group.commands:
        config_group.add_command(drift_cmd)
    return config_group
