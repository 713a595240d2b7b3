"""``govnet report availability``: how available each unit and each segment was, and when it was not.

Read from Prometheus over a window (``--since 30d``):

* per segment, the city-wide share of units up, from the recording rule
  ``segment:govnet_unit_availability:ratio`` (summed from every shard's per-state unit counts, so
  shards add up; see exporters/prometheus/govnet.rules.yml) — computed from the same expression on
  the raw series when the rule was not recorded over the window (rules not loaded, backfilled data);
* per unit and segment, ``max by (segment, unit) (govnet_unit_up)`` at every step (``max``: a node
  is watched by every shard): the share of steps it was up, and its outages (consecutive steps
  down: start, end, duration; an outage still going on at the window's end has no end);
* names and kinds from ``govnet_unit_info`` (the inventory's Chinese names).

Each point stands for the step that starts at it: the points are ``start, start + step, …,
end - step``, so a unit down from A to B (on step boundaries) is down (B - A) / step points, and an
outage's end is the first point it was seen up again. Steps without a sample (the daemon not
scraped) count neither as up nor as down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from govnet.errors import GovnetError
from govnet.report.prometheus import Prometheus
from govnet.report.window import Window, span

RECORDED = "segment:govnet_unit_availability:ratio"
RAW_RATIO = (
    'sum by (segment) (govnet_segment_units{{state="up"{extra}}}) / '
    '(sum by (segment) (govnet_segment_units{{state!="unknown"{extra}}}) > 0)'
)
NODE_KINDS = ("core", "aggregation")
WORST = 10


@dataclass(frozen=True)
class Outage:
    segment: str
    unit: str
    name: str
    start: float
    end: float | None
    """None: still down at the window's end."""
    duration: float


@dataclass(frozen=True)
class UnitAvailability:
    segment: str
    unit: str
    name: str
    kind: str
    availability: float
    down_seconds: float
    outages: int

    @property
    def node(self) -> bool:
        return self.kind in NODE_KINDS


@dataclass(frozen=True)
class SegmentAvailability:
    segment: str
    availability: float | None
    """Mean of the city-wide ratio over the window (None: never measured)."""
    lowest: float | None
    units: int
    units_down: int
    """Units (not nodes) with at least one outage."""
    source: str
    """``recorded`` (the rule) or ``raw`` (its expression on govnet_segment_units)."""
    series: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class AvailabilityReport:
    prometheus: str
    window: Window
    segment: str | None
    segments: list[SegmentAvailability]
    units: list[UnitAvailability]
    outages: list[Outage]
    zone: str = "UTC"
    """The site's timezone: every time of the report is shown in it."""

    @property
    def worst(self) -> list[UnitAvailability]:
        """Units (not nodes) that were down at some point, least available first."""
        hurt = [u for u in self.units if not u.node and u.availability < 1.0]
        return sorted(hurt, key=lambda u: (u.availability, -u.down_seconds, u.unit))[:WORST]


def build(
    prom: Prometheus, window: Window, segment: str | None = None, zone: str = "UTC"
) -> AvailabilityReport:
    selector = f'segment="{segment}"' if segment else ""
    up = prom.query_range(
        f"max by (segment, unit) (govnet_unit_up{{{selector}}})", window.start, window.last, window.step
    )
    ratios, source = _ratios(prom, window, selector)
    if not up and not ratios:
        scope = f" on segment {segment}" if segment else ""
        raise GovnetError(
            f"no govnet data in Prometheus at {prom.url}{scope} over the last {span(window.length)}: "
            "is it scraping a govnet daemon (job govnet)?"
        )
    names = _names(prom, window)
    units: list[UnitAvailability] = []
    outages: list[Outage] = []
    for series in up:
        seg, unit = series.labels.get("segment", ""), series.labels.get("unit", "")
        name, kind = names.get(unit, ("", ""))
        found = _outages(series.points, window)
        outages += [Outage(seg, unit, name, s, e, d) for s, e, d in found]
        values = [v for _, v in series.points]
        share = sum(1 for v in values if v >= 1) / len(values) if values else 0.0
        down = sum(1 for v in values if v < 1) * window.step
        units.append(UnitAvailability(seg, unit, name, kind, share, down, len(found)))
    units.sort(key=lambda u: (u.segment, u.node is False, u.unit))
    outages.sort(key=lambda o: (o.start, o.segment, o.unit))
    segments = []
    for seg in sorted({u.segment for u in units} | set(ratios), key=_segment_order):
        points = ratios.get(seg, [])
        values = [v for _, v in points]
        members = [u for u in units if u.segment == seg and not u.node]
        segments.append(
            SegmentAvailability(
                seg,
                sum(values) / len(values) if values else None,
                min(values) if values else None,
                len(members),
                sum(1 for u in members if u.outages),
                source,
                points,
            )
        )
    return AvailabilityReport(prom.url, window, segment, segments, units, outages, zone)


def _ratios(
    prom: Prometheus, window: Window, selector: str
) -> tuple[dict[str, list[tuple[float, float]]], str]:
    recorded = prom.query_range(f"{RECORDED}{{{selector}}}", window.start, window.last, window.step)
    source = "recorded"
    if not recorded:
        extra = f",{selector}" if selector else ""
        recorded = prom.query_range(RAW_RATIO.format(extra=extra), window.start, window.last, window.step)
        source = "raw"
    return {s.labels.get("segment", ""): s.points for s in recorded}, source


def _names(prom: Prometheus, window: Window) -> dict[str, tuple[str, str]]:
    """unit → (name, kind), as govnet_unit_info last said within the window."""
    found = prom.query(
        f"max by (unit, name, kind) (last_over_time(govnet_unit_info[{int(window.length)}s]))", window.end
    )
    return {s.labels.get("unit", ""): (s.labels.get("name", ""), s.labels.get("kind", "")) for s in found}


def _outages(points: list[tuple[float, float]], window: Window) -> list[tuple[float, float | None, float]]:
    """(start, end or None, duration) of every run of down steps.

    >>> w = Window(0, 60, 10)
    >>> _outages([(0, 1), (10, 0), (20, 0), (30, 1), (40, 0), (50, 0)], w)
    [(10, 30, 20), (40, None, 20)]
    """
    found: list[tuple[float, float | None, float]] = []
    start: float | None = None
    for moment, value in points:
        if value < 1 and start is None:
            start = moment
        elif value >= 1 and start is not None:
            found.append((start, moment, moment - start))
            start = None
    if start is not None:
        found.append((start, None, window.end - start))
    return found


def _segment_order(segment: str) -> tuple[int, str]:
    order = ("intranet", "party", "extranet")
    return (order.index(segment) if segment in order else len(order), segment)
