"""Self-contained HTML reports: inline CSS and SVG charts drawn here, no script, nothing fetched.

Chinese unit names are plain UTF-8 text (``<meta charset="utf-8">``, ``lang="zh-CN"``) in a font
stack that names the common CJK fonts, so any browser renders them with what it has.
"""

from __future__ import annotations

import math
from html import escape

from govnet.report.availability import AvailabilityReport, SegmentAvailability
from govnet.report.construction import ConstructionReport
from govnet.report.text import (
    CONSTRUCTION_HEADS,
    OUTAGE_HEADS,
    SEGMENT_HEADS,
    UNIT_HEADS,
    WORST_HEADS,
    construction_note,
    outage_row,
    percent,
    share,
    unit_label,
)
from govnet.report.window import Window, local, span

WIDTH, HEIGHT = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 40
COLOURS = {"intranet": "#1f77b4", "party": "#c0392b", "extranet": "#2e8b57"}

STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
       "PingFang SC", sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .8em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; } figure { margin: .8em 0; } figcaption { font-weight: bold; }
svg text { font-size: 11px; fill: #444; }
"""


def page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def table(heads: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """Cells are escaped here; ``numeric`` columns are right-aligned."""
    numeric = numeric or set()
    out = ["<table>", "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr>"]
    for row in rows:
        cells = "".join(
            f'<td class="n">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def availability_html(report: AvailabilityReport) -> str:
    window = report.window
    title = f"可用率报告 Availability{f' of {report.segment}' if report.segment else ''}, {local(window.start, report.zone)} – {local(window.end, report.zone)}"
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">From Prometheus at {escape(report.prometheus)}, one point every '
        f"{escape(span(window.step))} ({escape(span(window.length))} in all).</p>",
        "<h2>各网络 Segments</h2>",
        table(
            SEGMENT_HEADS,
            [
                [s.segment, percent(s.availability), percent(s.lowest, 1), str(s.units), str(s.units_down)]
                for s in report.segments
            ],
            {1, 2, 3, 4},
        ),
        "<h2>可用率走势 Availability over time</h2>",
    ]
    body += [chart(s, window, report.zone) for s in report.segments]
    body.append("<h2>最差单位 Worst units</h2>")
    if report.worst:
        body.append(
            table(
                WORST_HEADS,
                [
                    [unit_label(u), u.segment, percent(u.availability), span(u.down_seconds), str(u.outages)]
                    for u in report.worst
                ],
                {2, 3, 4},
            )
        )
    else:
        body.append("<p>Every unit was up at every point of the window.</p>")
    body.append("<h2>中断记录 Outages</h2>")
    if report.outages:
        body.append(
            table(
                OUTAGE_HEADS,
                [outage_row(o, report.zone) for o in report.outages],
                {4},
            )
        )
    else:
        body.append("<p>无 None.</p>")
    body.append("<h2>全部单位 Units</h2>")
    body.append(
        table(
            UNIT_HEADS,
            [
                [
                    unit_label(u),
                    u.kind,
                    u.segment,
                    percent(u.availability),
                    span(u.down_seconds),
                    str(u.outages),
                ]
                for u in report.units
            ],
            {3, 4, 5},
        )
    )
    return page(title, body)


def chart(segment: SegmentAvailability, window: Window, zone: str) -> str:
    """An SVG line of the segment's city-wide availability over the window; gaps stay gaps."""
    caption = f"{segment.segment}: {percent(segment.availability)}"
    if not segment.series:
        return f"<figure><figcaption>{escape(caption)}</figcaption><p>No data.</p></figure>"
    lowest = min(v for _, v in segment.series)
    floor = max(0.0, math.floor(lowest * 10 - 1e-9) / 10) if lowest < 1 else 0.9
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: float) -> float:
        return LEFT + plot_w * (moment - window.start) / max(window.length, 1e-9)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - floor) / (1 - floor))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(caption)}">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for tick in (floor, (floor + 1) / 2, 1.0):
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e4e4e4"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{100 * tick:.0f} %</text>'
        )
    for i in range(5):
        moment = window.start + window.length * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        day, clock = local(moment, zone)[:10], local(moment, zone)[11:16]
        parts.append(
            f'<text x="{x(moment):.1f}" y="{TOP + plot_h + 16}" text-anchor="{anchor}">{day}</text>'
            f'<text x="{x(moment):.1f}" y="{TOP + plot_h + 30}" text-anchor="{anchor}">{clock}</text>'
        )
    colour = COLOURS.get(segment.segment, "#555")
    for run in _runs(segment.series, window.step):
        if len(run) == 1:
            moment, value = run[0]
            parts.append(f'<circle cx="{x(moment):.1f}" cy="{y(value):.1f}" r="2" fill="{colour}"/>')
            continue
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(caption)}</figcaption>\n" + "\n".join(parts) + "</figure>"


def _runs(series: list[tuple[float, float]], step: float) -> list[list[tuple[float, float]]]:
    """Consecutive points (no gap longer than 1.5 steps).

    >>> _runs([(0, 1), (10, 1), (40, 1)], 10)
    [[(0, 1), (10, 1)], [(40, 1)]]
    """
    runs: list[list[tuple[float, float]]] = []
    for point in series:
        if runs and point[0] - runs[-1][-1][0] <= 1.5 * step:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


BAR_COLOURS = ("#1f77b4", "#e67e22", "#2e8b57")
"""Configured, not yet built, verified up."""


def construction_html(report: ConstructionReport) -> str:
    title = f"建设进度 Construction progress, {local(report.at, report.zone)}"
    heads = "".join(f"<th>{escape(h)}</th>" for h in CONSTRUCTION_HEADS[:2])
    heads += "".join(f"<th>{escape(h)}</th><th></th>" for h in CONSTRUCTION_HEADS[2:])
    rows = []
    for r in report.rows:
        cells = "".join(
            f"<td class='n'>{escape(share(part, r.units))}</td><td>{_bar(part, r.units, colour)}</td>"
            for part, colour in zip((r.configured, r.not_built, r.verified_up), BAR_COLOURS, strict=True)
        )
        rows.append(f"<tr><td>{escape(r.label)}</td><td class='n'>{r.units}</td>{cells}</tr>")
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">{escape(construction_note(report))}</p>',
        f"<table><tr>{heads}</tr>",
        *rows,
        "</table>",
    ]
    return page(title, body)


def _bar(part: int, whole: int, colour: str) -> str:
    width = 0.0 if not whole else 160 * part / whole
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="12" viewBox="0 0 160 12">'
        f'<rect width="160" height="12" fill="#eee"/><rect width="{width:.1f}" height="12" fill="{colour}"/></svg>'
    )
