"""Markdown, CSV and JSON forms of the reports (HTML: `govnet.report.page`)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from govnet.report.availability import AvailabilityReport, Outage, UnitAvailability
from govnet.report.construction import ConstructionReport, Row
from govnet.report.window import span, utc


def percent(value: float | None, digits: int = 3) -> str:
    """``99.583 %``; ``—`` when there is nothing.

    >>> percent(0.995833), percent(None)
    ('99.583 %', '—')
    """
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def share(part: int, whole: int) -> str:
    return f"{part} ({percent(part / whole, 1)})" if whole else str(part)


def outage_end(outage: Outage) -> str:
    return "ongoing" if outage.end is None else utc(outage.end)


def unit_label(unit: UnitAvailability | Outage) -> str:
    return f"{unit.name} ({unit.unit})" if unit.name else unit.unit


# -------------------------------------------------------------------------------- availability
def availability_json(report: AvailabilityReport) -> dict[str, Any]:
    window = report.window
    return {
        "prometheus": report.prometheus,
        "start": window.start,
        "end": window.end,
        "step_seconds": window.step,
        "segment": report.segment,
        "segments": [
            {k: v for k, v in asdict(s).items() if k != "series"} | {"series": s.series}
            for s in report.segments
        ],
        "units": [asdict(u) | {"node": u.node} for u in report.units],
        "outages": [asdict(o) for o in report.outages],
        "worst": [u.unit for u in report.worst],
    }


def availability_md(report: AvailabilityReport) -> str:
    window = report.window
    out = [
        f"# Availability{f' of {report.segment}' if report.segment else ''}, "
        f"{utc(window.start)} – {utc(window.end)}",
        "",
        f"From Prometheus at {report.prometheus}, one point every {span(window.step)} "
        f"({span(window.length)} in all).",
        "",
        "## Segments",
        "",
        "| segment | availability | lowest | units | units with an outage |",
        "|---|---|---|---|---|",
    ]
    for s in report.segments:
        out.append(
            f"| {s.segment} | {percent(s.availability)} | {percent(s.lowest, 1)} | {s.units} | {s.units_down} |"
        )
    out += ["", "## Worst units", ""]
    if report.worst:
        out += ["| unit | segment | availability | down | outages |", "|---|---|---|---|---|"]
        for u in report.worst:
            out.append(
                f"| {unit_label(u)} | {u.segment} | {percent(u.availability)} | {span(u.down_seconds)} | {u.outages} |"
            )
    else:
        out.append("Every unit was up at every point of the window.")
    out += ["", "## Outages", ""]
    if report.outages:
        out += ["| unit | segment | start | end | duration |", "|---|---|---|---|---|"]
        for o in report.outages:
            out.append(
                f"| {unit_label(o)} | {o.segment} | {utc(o.start)} | {outage_end(o)} | {span(o.duration)} |"
            )
    else:
        out.append("None.")
    out += [
        "",
        "## Units",
        "",
        "| unit | kind | segment | availability | down | outages |",
        "|---|---|---|---|---|---|",
    ]
    for u in report.units:
        out.append(
            f"| {unit_label(u)} | {u.kind} | {u.segment} | {percent(u.availability)} | "
            f"{span(u.down_seconds)} | {u.outages} |"
        )
    return "\n".join(out) + "\n"


def availability_csv(report: AvailabilityReport) -> str:
    """One table: a row per segment, per unit and per outage (``record`` says which)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "record",
            "segment",
            "unit",
            "name",
            "kind",
            "availability_ratio",
            "down_seconds",
            "outages",
            "start",
            "end",
        ]
    )
    for s in report.segments:
        writer.writerow(["segment", s.segment, "", "", "", _num(s.availability), "", s.units_down, "", ""])
    for u in report.units:
        writer.writerow(
            [
                "unit",
                u.segment,
                u.unit,
                u.name,
                u.kind,
                _num(u.availability),
                _num(u.down_seconds),
                u.outages,
                "",
                "",
            ]
        )
    for o in report.outages:
        end = "" if o.end is None else utc(o.end)
        writer.writerow(
            ["outage", o.segment, o.unit, o.name, "", "", _num(o.duration), "", utc(o.start), end]
        )
    return buffer.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


# -------------------------------------------------------------------------------- construction
def construction_json(report: ConstructionReport) -> dict[str, Any]:
    return {
        "prometheus": report.prometheus,
        "state": report.state,
        "state_found": report.state_found,
        "at": report.at,
        "rows": [asdict(r) | {"label": r.label} for r in report.rows],
    }


def construction_md(report: ConstructionReport) -> str:
    out = [
        f"# Construction progress, {utc(report.at)}",
        "",
        f"Configured: rollout state in {report.state}"
        + ("" if report.state_found else " (no state store there: nothing counted as configured)")
        + f". Verified up: Prometheus at {report.prometheus}.",
        "",
        "| segment | units | configured | verified up |",
        "|---|---|---|---|",
    ]
    out += [_construction_row(r) for r in report.rows]
    return "\n".join(out) + "\n"


def _construction_row(row: Row) -> str:
    return f"| {row.label} | {row.units} | {share(row.configured, row.units)} | {share(row.verified_up, row.units)} |"


def construction_csv(report: ConstructionReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["segment", "wave", "units", "configured", "verified_up"])
    for r in report.rows:
        writer.writerow([r.segment, "" if r.wave is None else r.wave, r.units, r.configured, r.verified_up])
    return buffer.getvalue()
