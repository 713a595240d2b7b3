"""``govnet report availability | construction``: reports for the city's leaders, from Prometheus."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from govnet.cli.common import inventory_option, json_option, load_inventory, state_option
from govnet.errors import GovnetError, UsageError
from govnet.inventory.models import SEGMENTS
from govnet.report import availability, construction, page, text
from govnet.report.prometheus import Prometheus, check_url, default_url
from govnet.report.window import Window, instant

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("md", "csv", "html")


def _segment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value not in SEGMENTS:
        raise UsageError(f"unknown segment '{value}' (segments: {', '.join(SEGMENTS)})")
    return value


def output_options(func: F) -> F:
    func = click.option(
        "--prometheus",
        "prometheus_url",
        default=default_url,
        show_default="http://127.0.0.1:9090 or $GOVNET_PROMETHEUS",
        help="Prometheus' base URL (it must scrape the govnet daemons and load govnet.rules.yml).",
    )(func)
    func = click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help="Report format."
    )(func)
    func = click.option(
        "--out",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Write the report here (default: stdout).",
    )(func)
    return json_option(func)


@click.group("report")
def report_group() -> None:
    """Availability and construction reports, from Prometheus and the rollout state."""


@report_group.command("availability")
@inventory_option
@click.option("--since", required=True, metavar="DURATION", help="Window length: 30d, 12h, 90m, 2w.")
@click.option(
    "--end", metavar="TIME", help="End of the window: unix seconds or 2026-11-01T08:00:00Z (default: now)."
)
@click.option("--step", metavar="DURATION", help="Resolution of the range queries (default: ≤ 2,500 points).")
@click.option("--segment", callback=_segment, help="Only this segment (intranet, party, extranet).")
@output_options
def availability_cmd(
    inventory_path: Path,
    since: str,
    end: str | None,
    step: str | None,
    segment: str | None,
    prometheus_url: str,
    fmt: str,
    out: Path | None,
    as_json: bool,
) -> None:
    """Per-unit and per-segment availability, outages (start, end, duration) and the worst units.

    Times are shown in the site's timezone (the inventory's site.timezone), the zone named.
    """
    window = Window.of(since, end, step)
    zone = load_inventory(inventory_path).inventory.site.timezone
    report = availability.build(Prometheus(check_url(prometheus_url)), window, segment, zone)
    if as_json:
        write(json.dumps(text.availability_json(report), ensure_ascii=False, indent=2), out)
    else:
        render = {"md": text.availability_md, "csv": text.availability_csv, "html": page.availability_html}[
            fmt
        ]
        write(render(report), out)


@report_group.command("construction")
@inventory_option
@state_option
@click.option(
    "--at", "at", metavar="TIME", help="As of: unix seconds or 2026-11-01T08:00:00Z (default: now)."
)
@output_options
def construction_cmd(
    inventory_path: Path,
    state_dir: Path,
    at: str | None,
    prometheus_url: str,
    fmt: str,
    out: Path | None,
    as_json: bool,
) -> None:
    """Per segment and extranet wave: units in the inventory, configured by rollouts, not yet built
    (未建: the segment's part never applied by govnet, pending rollout), verified up.
    """
    inventory = load_inventory(inventory_path).inventory
    moment = instant(at, "--at")
    report = construction.build(inventory, state_dir, Prometheus(check_url(prometheus_url)), moment)
    if not report.state_found:
        click.echo(f"warning: no rollout state in {state_dir}: no unit counted as configured", err=True)
    if as_json:
        write(json.dumps(text.construction_json(report), ensure_ascii=False, indent=2), out)
    else:
        render = {"md": text.construction_md, "csv": text.construction_csv, "html": page.construction_html}[
            fmt
        ]
        write(render(report), out)


def write(body: str, out: Path | None) -> None:
    """To stdout, or to ``out`` whole (a temporary file renamed: a failed run leaves nothing half written)."""
    if out is None:
        click.echo(body, nl=not body.endswith("\n"))
        return
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(body if body.endswith("\n") else body + "\n", encoding="utf-8")
        os.replace(partial, out)
    except OSError as exc:
        partial.unlink(missing_ok=True) if partial.parent.exists() else None
        raise GovnetError(f"{out}: cannot write the report: {exc.strerror or exc}") from None
    click.echo(f"report written to {out}", err=True)
