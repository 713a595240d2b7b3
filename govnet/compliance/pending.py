"""Pending is not drift: a part of a unit's intent govnet has never applied is *pending rollout*.

A city is built segment by segment and the extranet wave by wave, so for weeks most units hold
no intranet or extranet part yet. Their difference from the intent is construction still to do,
not a change to undo: counting it as drift would raise an alert for every unit of every later
wave. What govnet applied is read from the state store: a device is applied on a segment once an
apply run of that segment ended ``changed`` (verified, the audit's ``verified`` entry) or ``ok``
(the plan found the intent already in place) for it — the construction report's own measure. A
rollback later does not make a part pending again: govnet built it once, so a difference is drift.

A segment's rollout owns the parts ``scope_kinds(segment)``; the security baseline is in every
scope, so it is applied with whichever segment came first.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from govnet.rollout.context import scope_kinds


def applied_segments(conn: sqlite3.Connection, unit: str, device: str) -> set[str]:
    """The segments an apply run ever put in place on ``device`` of ``unit``."""
    rows = conn.execute(
        "SELECT runs.scope FROM run_units JOIN runs ON runs.id = run_units.run_id "
        "WHERE runs.kind = 'apply' AND run_units.unit = ? AND run_units.device = ? "
        "AND run_units.result IN ('ok', 'changed')",
        (unit, device),
    )
    return {str(json.loads(row[0]).get("segment", "")) for row in rows} - {""}


def applied_kinds(segments: Iterable[str]) -> frozenset[str]:
    """The part kinds a rollout of these segments put in place.

    >>> sorted(applied_kinds(["party"]))
    ['baseline', 'party', 'uplink']
    >>> sorted(applied_kinds([]))
    []
    """
    return frozenset(kind for segment in segments for kind in scope_kinds(segment))


def split_kinds(
    kinds: dict[str, tuple[int, int]], applied: frozenset[str]
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """(missing, extra) per part kind → (drifted, pending): a kind never applied is pending.

    >>> split_kinds({"baseline": (1, 0), "intranet": (3, 0)}, applied_kinds(["party"]))
    ({'baseline': (1, 0)}, {'intranet': (3, 0)})
    """
    drifted = {k: v for k, v in kinds.items() if k in applied}
    pending = {k: v for k, v in kinds.items() if k not in applied}
    return drifted, pending
