"""The store read as history: which backup was in force when, and who changed what, when.

``config show``, ``config diff --from/--to`` and ``config export-git`` pick stored backups by
what an engineer has at hand: a backup id (the store's row), a hash prefix (what ``config
history`` prints) or a moment ("the backup in force at that time": the newest taken at or
before it). ``audit log`` reads the audit trail, newest entries last, one line per event.

Times a user types are local time unless they carry an offset (``Z``, ``+08:00``), because
local time is what ``config history`` and ``audit log`` print; a bare date means its end for
``--at`` and ``--until`` (the config as the day left it) and its start for ``--since``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from govnet.errors import GovnetError, UsageError
from govnet.state.backups import Backup

HASH_PREFIX_MIN = 6
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION_RE = re.compile(r"^([0-9]+)([smhdw])$")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
CHANGE_ACTIONS = ("verified", "restore", "rollback")
"""Audit actions after which a device runs a config govnet gave it (its change, a restore of
the pre-change backup, a rollback): what a new backup's text is attributed to."""
OUTSIDE = "outside govnet"
TIME_HINT = "a time like 2026-12-06, 2026-12-06T08:30 or 2026-12-06T08:30:00+08:00"


def stamp(at: float) -> str:
    """A moment as ``config history`` prints it (local time).

    >>> len(stamp(1796553000.5)), moment(stamp(1796553000.0), "--at") == 1796553000.0
    (19, True)
    """
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def moment(text: str, option: str, end_of_day: bool = False, now: float | None = None) -> float:
    """Unix seconds of ``text``: ISO 8601 (local time without an offset), a date (its start, or
    its end with ``end_of_day``), or a duration back from now (``7d``, ``12h``).

    >>> moment("2026-12-06T08:30Z", "--at"), moment("2026-12-06T16:30:00+08:00", "--at")
    (1796545800.0, 1796545800.0)
    >>> round(moment("2026-12-06", "--until", end_of_day=True) - moment("2026-12-06", "--since"), 3)
    86400.0
    >>> moment("2h", "--since", now=7200.0)
    0.0
    """
    text = text.strip()
    ago = DURATION_RE.match(text)
    if ago:
        return (time.time() if now is None else now) - int(ago[1]) * DURATION_UNITS[ago[2]]
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise UsageError(f"{option} '{text}': not {TIME_HINT}, nor a duration such as 7d or 12h") from None
    if end_of_day and DATE_RE.match(text):
        when += timedelta(days=1, microseconds=-1)
    if when.tzinfo is None:
        when = when.astimezone()  # local time
    return when.timestamp()


def unit_backups(conn: sqlite3.Connection, unit: str) -> list[Backup]:
    """Every backup of ``unit``'s devices, oldest first (also of a unit no longer in the inventory)."""
    rows = conn.execute("SELECT * FROM backups WHERE unit=? ORDER BY taken, id", (unit,)).fetchall()
    return [_backup(r) for r in rows]


def _backup(r: sqlite3.Row) -> Backup:
    return Backup(r["id"], r["unit"], r["device"], r["hash"], r["taken"], r["reason"], r["run_id"])


def pick(found: list[Backup], selector: str | None, unit: str, option: str = "--at") -> dict[str, Backup]:
    """The backup ``selector`` names, per device: the newest of each device without one; one
    device's for a backup id or hash prefix; each device's in force at a time."""
    if not found:
        raise GovnetError(f"{unit}: no backup yet (govnet config backup {unit})")
    if selector is None:
        return {b.device: b for b in found}  # oldest first: the newest of each device stays
    chosen = _by_id(found, selector) or _by_hash(found, selector, unit, option)
    if chosen is not None:
        return {chosen.device: chosen}
    if re.fullmatch(r"[0-9a-fA-F]+", selector):
        raise GovnetError(
            f"{option} '{selector}': {unit} has no such backup (a backup id or a hash prefix of "
            f"{HASH_PREFIX_MIN}+ characters; see govnet config history {unit})"
        )
    at = moment(selector, option, end_of_day=True)
    before = {b.device: b for b in found if b.taken <= at}
    if not before:
        raise GovnetError(
            f"{option} '{selector}': {unit} has no backup at or before {stamp(at)} "
            f"(its first is from {stamp(found[0].taken)})"
        )
    return before


def _by_id(found: list[Backup], selector: str) -> Backup | None:
    if not selector.isdigit():
        return None
    return next((b for b in found if b.id == int(selector)), None)


def _by_hash(found: list[Backup], selector: str, unit: str, option: str) -> Backup | None:
    prefix = selector.lower()
    if len(prefix) < HASH_PREFIX_MIN or not re.fullmatch(r"[0-9a-f]+", prefix):
        return None
    matches = [b for b in found if b.hash.startswith(prefix)]
    if len({(b.device, b.hash) for b in matches}) > 1:
        raise GovnetError(f"{option} '{selector}': matches several backups of {unit}; give more characters")
    return matches[-1] if matches else None


@dataclass(frozen=True)
class Authorship:
    """A govnet action that left a device with a config: who, which run, what, when."""

    user: str
    run_id: str | None
    action: str
    at: float


def changed_by(
    conn: sqlite3.Connection, unit: str, device: str, after: float, until: float
) -> Authorship | None:
    """The last govnet change to ``device`` in (``after``, ``until``], from the audit trail; None
    when govnet did not touch it then (the change came from outside govnet)."""
    rows = conn.execute(
        "SELECT at, user, action, run_id, detail FROM audit WHERE unit=? "
        "AND action IN ('verified', 'restore', 'rollback') AND at>? AND at<=? ORDER BY seq DESC",
        (unit, after, until),
    ).fetchall()
    for row in rows:
        if json.loads(row["detail"]).get("device", device) == device:
            return Authorship(row["user"], row["run_id"], row["action"], row["at"])
    return None


@dataclass(frozen=True)
class HistoryEntry:
    """One audit event as ``audit log`` shows it."""

    seq: int
    at: float
    user: str
    action: str
    run_id: str | None
    unit: str | None
    detail: dict[str, Any]

    @property
    def summary(self) -> str:
        return describe(self.action, self.detail)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "time": datetime.fromtimestamp(self.at).astimezone().isoformat(timespec="seconds"),
            "user": self.user,
            "action": self.action,
            "run": self.run_id,
            "unit": self.unit,
            "summary": self.summary,
            "detail": self.detail,
        }


def entries(
    conn: sqlite3.Connection, unit: str | None = None, since: float | None = None, until: float | None = None
) -> list[HistoryEntry]:
    """Audit entries, oldest first, of one unit and within [``since``, ``until``] when given."""
    where, args = _where(unit, since, until)
    rows = conn.execute(f"SELECT * FROM audit{where} ORDER BY seq", args).fetchall()  # noqa: S608 - placeholders
    return [
        HistoryEntry(
            r["seq"], r["at"], r["user"], r["action"], r["run_id"], r["unit"], json.loads(r["detail"])
        )
        for r in rows
    ]


def _where(unit: str | None, since: float | None, until: float | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for clause, value in (("unit=?", unit), ("at>=?", since), ("at<=?", until)):
        if value is not None:
            clauses.append(clause)
            args.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def audited_unit(conn: sqlite3.Connection, unit: str) -> bool:
    return conn.execute("SELECT 1 FROM audit WHERE unit=? LIMIT 1", (unit,)).fetchone() is not None


def describe(action: str, detail: dict[str, Any]) -> str:
    """One readable line for an audit entry's detail.

    >>> describe("push", {"device": "A", "commands": ["x", "y"], "backup": "ab" * 32})
    'A: 2 line(s) pushed (before: backup abababababab)'
    >>> describe("run-end", {"stopped": False, "results": {"changed": 3, "ok": 1}})
    'run ended: 3 changed, 1 ok'
    >>> describe("something-new", {"b": 1})
    '{"b": 1}'
    """
    device = detail.get("device", "")
    short = {k: str(detail.get(k, ""))[:12] for k in ("backup", "after")}
    lines = len(detail.get("commands", []))
    texts = {
        "run-start": f"plan {detail.get('plan')}: {detail.get('units')} unit(s)",
        "run-end": "run "
        + ("stopped (failures passed --max-failures)" if detail.get("stopped") else "ended")
        + (f" by {detail['interrupted']}" if detail.get("interrupted") else "")
        + ": "
        + ", ".join(f"{v} {k}" for k, v in sorted(detail.get("results", {}).items())),
        "run-resume": f"resumed: {detail.get('pending')} unit(s) pending",
        "push": f"{device}: {lines} line(s) pushed (before: backup {short['backup']})",
        "verified": f"{device}: verified, now backup {short['after']}",
        "restore": f"{device}: pre-change backup {short['backup']} restored: {detail.get('why')}",
        "restore-failed": f"{device}: RESTORE FAILED ({detail.get('error')}): {detail.get('why')}",
        "rollback-start": f"rollback of run {detail.get('of')}: {detail.get('units')} unit(s)",
        "rollback": f"{device}: {lines} line(s) to roll back to backup {short['backup']}",
        "rollback-end": f"rollback of run {detail.get('of')} ended",
    }
    return texts.get(action) or json.dumps(detail, ensure_ascii=False, sort_keys=True)
