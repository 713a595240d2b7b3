"""``govnet report construction``: how far the rollout has come, per segment and extranet wave.

Three counts per row, against the inventory's totals:

* **units** — the inventory's units on the segment (for a wave: its extranet units of that wave);
* **configured** — units whose configuration a rollout put in place, from the state store
  (``govnet rollout apply`` runs, replayed oldest first: a unit is configured on a segment once an
  apply run of that segment ended ``ok`` or ``changed`` on every device of it; a rollback that
  restored it takes it out again);
* **not yet built** (未建) — units whose part for the segment govnet has never applied and that do
  not hold it either: the daemon's drift check says so as ``govnet_config_pending`` 1 (pending
  rollout, not drift; govnet/compliance/pending.py), read from Prometheus like the units up, so
  the report, the dashboards and the status page count the same units;
* **verified up** — units Prometheus last saw up on that segment (``govnet_unit_up`` 1 in the
  10 minutes before the report's time, any shard).

A unit is neither configured nor not yet built when it was built by hand (its intent in place,
no rollout of govnet's recorded), when a rollback took govnet's configuration out again (drift,
not construction), or when the daemon could not read it lately.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from govnet.inventory.models import SEGMENTS, Inventory
from govnet.report.prometheus import Prometheus
from govnet.rollout import runs
from govnet.state.db import connect, db_path

FRESH = "10m"
"""How recent a ``govnet_unit_up`` or ``govnet_config_pending`` sample must be to count."""


@dataclass(frozen=True)
class Row:
    segment: str
    wave: int | None
    units: int
    configured: int
    verified_up: int
    not_built: int
    """Units pending rollout on the segment (未建): never built by govnet, not in place."""

    @property
    def label(self) -> str:
        return self.segment if self.wave is None else f"{self.segment} wave {self.wave}"


@dataclass(frozen=True)
class ConstructionReport:
    prometheus: str
    state: str
    at: float
    rows: list[Row]
    state_found: bool
    zone: str = "UTC"
    """The site's timezone: the report's time is shown in it."""


def configured_units(state_dir: Path) -> dict[str, set[str]] | None:
    """segment → units configured on it by rollouts; None when there is no state store."""
    if not db_path(state_dir).exists():
        return None
    done: dict[str, set[str]] = {s: set() for s in SEGMENTS}
    with connect(state_dir, create=False) as conn:
        for run in reversed(runs.recent(conn, limit=1_000_000)):
            segment = str(run.scope.get("segment", ""))
            if segment not in done:
                continue
            for unit, results in _results(conn, run.id).items():
                if run.kind == "apply" and all(r in ("ok", "changed") for r in results):
                    done[segment].add(unit)
                elif run.kind == "rollback" and any(r in ("ok", "changed", "restored") for r in results):
                    done[segment].discard(unit)
    return done


def _results(conn: sqlite3.Connection, run_id: str) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for record in runs.units(conn, run_id):
        out.setdefault(record.unit, []).append(record.result)
    return out


def verified_up(prom: Prometheus, at: float) -> dict[str, set[str]]:
    """segment → units whose newest govnet_unit_up (within `FRESH`) is 1."""
    return _flagged(prom, "govnet_unit_up", at)


def not_built(prom: Prometheus, at: float) -> dict[str, set[str]]:
    """segment → units whose newest govnet_config_pending (within `FRESH`) is 1: not yet built.

    A unit exported by several shards counts once. A unit whose check could not read it lately
    keeps its last answer for `FRESH` (a daemon restart does not empty the count), then drops out:
    the report never counts a unit from an old sample."""
    return _flagged(prom, "govnet_config_pending", at)


def _flagged(prom: Prometheus, metric: str, at: float) -> dict[str, set[str]]:
    found = prom.query(f"max by (segment, unit) (last_over_time({metric}[{FRESH}])) == 1", at)
    out: dict[str, set[str]] = {}
    for series in found:
        out.setdefault(series.labels.get("segment", ""), set()).add(series.labels.get("unit", ""))
    return out


def build(inventory: Inventory, state_dir: Path, prom: Prometheus, at: float) -> ConstructionReport:
    counts = Counts(configured_units(state_dir), verified_up(prom, at), not_built(prom, at))
    rows: list[Row] = []
    for segment in SEGMENTS:
        members = [u for u in inventory.units if segment in u.segments]
        if not members and segment not in inventory.segments:
            continue
        rows.append(counts.row(segment, None, [u.id for u in members]))
        if segment == "extranet":
            wave_of = {u.id: u.segments["extranet"].wave for u in members}
            for wave in sorted({w for w in wave_of.values() if w is not None}):
                ids = [i for i, w in wave_of.items() if w == wave]
                rows.append(counts.row(segment, wave, ids))
    return ConstructionReport(
        prom.url, str(state_dir), at, rows, counts.configured is not None, inventory.site.timezone
    )


@dataclass(frozen=True)
class Counts:
    """segment → units, per measure; `row` counts the members of one row in each."""

    configured: dict[str, set[str]] | None
    up: dict[str, set[str]]
    pending: dict[str, set[str]]

    def row(self, segment: str, wave: int | None, ids: list[str]) -> Row:
        done = (self.configured or {}).get(segment, set())
        seen, waiting = self.up.get(segment, set()), self.pending.get(segment, set())
        return Row(
            segment,
            wave,
            len(ids),
            sum(1 for i in ids if i in done),
            sum(1 for i in ids if i in seen),
            sum(1 for i in ids if i in waiting),
        )
