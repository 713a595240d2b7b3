"""Markdown, CSV and JSON forms of the reports (HTML: `govnet.report.page`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from govnet.report.availability import AvailabilityReport, Outage, UnitAvailability
from govnet.report.construction import ConstructionReport
from govnet.report.window import iso, local, span


def percent(value: float | None, digits: int = 3) -> str:
    """``99.583 %``; ``—`` when there is nothing.

    >>> percent(0.995833), percent(None)
    ('99.583 %', '—')
    """
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def share(part: int, whole: int) -> str:
    return f"{part} ({percent(part / whole, 1)})" if whole else str(part)


def outage_end(outage: Outage, zone: str) -> str:
    return "持续中 ongoing" if outage.end is None else local(outage.end, zone)


SEGMENT_HEADS = [
    "网络 segment",
    "可用率 availability",
    "最低 lowest",
    "单位 units",
    "有中断的单位 units with an outage",
]
WORST_HEADS = ["单位 unit", "网络 segment", "可用率 availability", "中断时长 down", "中断次数 outages"]
OUTAGE_HEADS = ["单位 unit", "网络 segment", "开始 start", "结束 end", "时长 duration"]
UNIT_HEADS = [
    "单位 unit",
    "类别 kind",
    "网络 segment",
    "可用率 availability",
    "中断时长 down",
    "中断次数 outages",
]
CONSTRUCTION_HEADS = [
    "网络 segment",
    "单位 units",
    "已配置 configured",
    "未建 not yet built",
    "已验证在线 verified up",
]
"""Column heads of the human reports (Markdown and HTML): Chinese, the English beside it."""


def outage_row(outage: Outage, zone: str) -> list[str]:
    return [
        unit_label(outage),
        outage.segment,
        local(outage.start, zone),
        outage_end(outage, zone),
        span(outage.duration),
    ]


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
        "timezone": report.zone,
        "segment": report.segment,
        "segments": [
            {k: v for k, v in asdict(s).items() if k != "series"} | {"series": s.series}
            for s in report.segments
        ],
        "units": [asdict(u) | {"node": u.node} for u in report.units],
        "outages": [asdict(o) for o in report.outages],
        "worst": [u.unit for u in report.worst],
    }


def md_table(columns: Sequence[str], rows: Iterable[Sequence[object]], empty: str = "") -> list[str]:
    """The lines of a Markdown table; ``empty`` (a sentence) instead of a table without rows.

    >>> md_table(["unit", "down"], [["a", "5 s"]])
    ['| unit | down |', '|---|---|', '| a | 5 s |']
    >>> md_table(["unit", "down"], [], "None.")
    ['None.']
    """
    lines = [f"| {' | '.join(str(cell) for cell in row)} |" for row in rows]
    if empty and not lines:
        return [empty]
    return [f"| {' | '.join(columns)} |", "|" + "---|" * len(columns), *lines]


def availability_md(report: AvailabilityReport) -> str:
    window = report.window
    out = [
        f"# 可用率报告 Availability{f' of {report.segment}' if report.segment else ''}, "
        f"{local(window.start, report.zone)} – {local(window.end, report.zone)}",
        "",
        f"From Prometheus at {report.prometheus}, one point every {span(window.step)} "
        f"({span(window.length)} in all).",
        "",
        "## 各网络 Segments",
        "",
        *md_table(
            SEGMENT_HEADS,
            (
                [s.segment, percent(s.availability), percent(s.lowest, 1), s.units, s.units_down]
                for s in report.segments
            ),
        ),
        "",
        "## 最差单位 Worst units",
        "",
        *md_table(
            WORST_HEADS,
            (
                [unit_label(u), u.segment, percent(u.availability), span(u.down_seconds), u.outages]
                for u in report.worst
            ),
            "Every unit was up at every point of the window.",
        ),
        "",
        "## 中断记录 Outages",
        "",
        *md_table(
            OUTAGE_HEADS,
            (outage_row(o, report.zone) for o in report.outages),
            "无 None.",
        ),
        "",
        "## 全部单位 Units",
        "",
        *md_table(
            UNIT_HEADS,
            (
                [unit_label(u), u.kind, u.segment, percent(u.availability), span(u.down_seconds), u.outages]
                for u in report.units
            ),
        ),
    ]
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
        end = "" if o.end is None else iso(o.end, report.zone)
        writer.writerow(
            [
                "outage",
                o.segment,
                o.unit,
                o.name,
                "",
                "",
                _num(o.duration),
                "",
                iso(o.start, report.zone),
                end,
            ]
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


def construction_note(report: ConstructionReport) -> str:
    """Where each count comes from (one sentence per source), under the report's title."""
    return (
        f"Configured: rollout state in {report.state}"
        + ("" if report.state_found else " (no state store there: nothing counted as configured)")
        + f". Not yet built (govnet never applied the segment's part, pending rollout) and verified up: "
        f"Prometheus at {report.prometheus}."
    )


def construction_md(report: ConstructionReport) -> str:
    out = [
        f"# 建设进度 Construction progress, {local(report.at, report.zone)}",
        "",
        construction_note(report),
        "",
        *md_table(
            CONSTRUCTION_HEADS,
            (
                [
                    r.label,
                    r.units,
                    share(r.configured, r.units),
                    share(r.not_built, r.units),
                    share(r.verified_up, r.units),
                ]
                for r in report.rows
            ),
        ),
    ]
    return "\n".join(out) + "\n"


def construction_csv(report: ConstructionReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["segment", "wave", "units", "configured", "verified_up", "not_built"])
    for r in report.rows:
        wave = "" if r.wave is None else r.wave
        writer.writerow([r.segment, wave, r.units, r.configured, r.verified_up, r.not_built])
    return buffer.getvalue()
