"""Rollout runs as the daemon exports them: the newest run per segment and kind, from the state store.

The daemon does not roll anything out; it reads the runs ``govnet rollout`` records (the
``state`` folder of its config, the same as ``--state`` of the rollout commands) so that Grafana
can mark rollouts on its graphs and the operator sees that a wave of units going down was a
change, not an outage. Read-only (``mode=ro``): a missing store is simply no runs, and the daemon
never creates or locks it for the rollout that is writing it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from govnet.metrics.view import RolloutSeen
from govnet.rollout.runs import Run, alive
from govnet.state.db import db_path

RECENT = 200
"""Runs looked at: the newest per (segment, kind) is among them unless hundreds came since."""


def read_rollouts(state_dir: Path) -> tuple[RolloutSeen, ...]:
    """The newest run per (segment, kind); empty when there is no store (yet) or it is unreadable."""
    path = db_path(state_dir)
    if not path.exists():
        return ()
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return ()
    try:
        newest: dict[tuple[str, str], sqlite3.Row] = {}
        conn.row_factory = sqlite3.Row
        for row in conn.execute(
            "SELECT id, created, finished, kind, scope, status, pid FROM runs ORDER BY created DESC LIMIT ?",
            (RECENT,),
        ):
            segment = str(json.loads(row["scope"]).get("segment") or "")
            if segment:
                newest.setdefault((segment, str(row["kind"])), row)
        seen = []
        for (segment, kind), row in sorted(newest.items()):
            counts = [
                (str(r[0]), int(r[1]))
                for r in conn.execute(
                    "SELECT CASE WHEN phase = 'done' THEN coalesce(result, 'unknown') ELSE 'pending' END, "
                    "count(*) FROM run_units WHERE run_id = ? GROUP BY 1 ORDER BY 1",
                    (row["id"],),
                )
            ]
            running = row["status"] == "running" and alive(_run(row))
            ended = row["finished"] if row["finished"] is not None else None
            seen.append(
                RolloutSeen(
                    segment, kind, str(row["id"]), float(row["created"]), ended, running, tuple(counts)
                )
            )
        return tuple(seen)
    except (sqlite3.Error, ValueError):
        return ()
    finally:
        conn.close()


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        created=row["created"],
        finished=row["finished"],
        user="",
        kind=row["kind"],
        plan_path=None,
        plan_hash=None,
        scope={},
        options={},
        status=row["status"],
        pid=row["pid"],
    )
