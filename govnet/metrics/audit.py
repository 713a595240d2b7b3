"""The audit trail's head as metrics, so its history lives outside the state store.

``govnet audit verify`` proves the chain consistent with itself and with ``audit.head``; someone
who can write the store can rewrite both. Prometheus keeps what the daemon saw: the number of
entries (``govnet_audit_events_total``, which only ever grows) and the newest entry's hash
(``govnet_audit_head_info{head}``, its first ``HEAD_CHARS`` hex digits). A chain cut short shows
as the counter going down, an entry edited and the chain recomputed as the head changing while
the count did not grow: exporters/prometheus/govnet-audit.rules.yml alerts on both from
Prometheus' own data. The daemon logs every new head too (one line each), for the log archive.

One series per head: a new ``head`` label per change of the trail (a rollout adds a few entries
per unit). Prometheus keeps the old ones as history, which is the point.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from govnet.state.audit import GENESIS
from govnet.state.db import db_path

log = logging.getLogger(__name__)
HEAD_CHARS = 16
"""Hex digits of the head exported: 64 bits, enough to tell any two heads apart."""


@dataclass(frozen=True)
class AuditHead:
    entries: int
    head: str
    """The newest entry's hash (``GENESIS`` when there is none)."""

    @property
    def short(self) -> str:
        return self.head[:HEAD_CHARS]


def read_head(state_dir: Path) -> AuditHead:
    """The trail's entry count and newest hash, read in one statement (one consistent snapshot).

    Read-only (``mode=ro``): no store yet is an empty trail; the daemon never creates it. Raises
    ``sqlite3.Error`` when the store exists but cannot be read.
    """
    path = db_path(state_dir)
    if not path.exists():
        return AuditHead(0, GENESIS)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        count, head = conn.execute(
            "SELECT count(*), (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) FROM audit"
        ).fetchone()
    finally:
        conn.close()
    return AuditHead(int(count), str(head or GENESIS))


class AuditWatch(Collector):
    """The last head read; ``refresh`` reads it again (in a worker thread: SQLite blocks)."""

    def __init__(self) -> None:
        self.seen: AuditHead | None = None
        self._failing: str | None = None

    def refresh(self, state_dir: Path) -> bool:
        """Read the head; True when it changed (logged). A failed read keeps the last one."""
        try:
            now = read_head(state_dir)
        except sqlite3.Error as exc:
            if str(exc) != self._failing:  # once per distinct failure, not every few seconds
                log.warning("audit trail: cannot read %s: %s", db_path(state_dir), exc)
            self._failing = str(exc)
            return False
        self._failing = None
        if now == self.seen:
            return False
        before, self.seen = self.seen, now
        if before is not None and now.entries < before.entries:
            log.warning(
                "audit trail: %d entries, fewer than the %d seen before; head %s",
                now.entries,
                before.entries,
                now.short,
            )
        elif before is not None and now.entries == before.entries:
            log.warning(
                "audit trail: head changed to %s without a new entry (%d entries)", now.short, now.entries
            )
        else:
            log.info("audit trail: %d entries, head %s", now.entries, now.short)
        return True

    def collect(self) -> Iterator[CounterMetricFamily | InfoMetricFamily]:
        seen = self.seen
        if seen is None:
            return
        yield CounterMetricFamily(
            "govnet_audit_events",
            "Entries in the audit trail of the daemon's state store (never decreases unless rewritten)",
            value=seen.entries,
        )
        yield InfoMetricFamily(
            "govnet_audit_head",
            "The audit trail's newest hash (its first 16 hex digits)",
            value={"head": seen.short},
        )
