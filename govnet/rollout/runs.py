"""Runs and their per-unit records in the state store: the write-ahead log of a rollout.

Every phase change of a unit is committed before the action it announces (``pushing`` before
the first line goes to the device), so a govnet killed at any instant leaves a record saying
which units were untouched, which were being changed and which were done; ``resume`` and
``rollback`` read only this.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal, cast

from govnet.errors import StateError
from govnet.state.audit import current_user
from govnet.state.db import transaction

Phase = Literal["pending", "backed_up", "pushing", "pushed", "saved", "verified", "restoring", "done"]
Result = Literal["ok", "changed", "failed", "skipped", "restored"]
FINAL_PHASES = ("done",)
CHANGING_PHASES = ("pushing", "pushed", "saved", "restoring")
"""Phases in which the device may differ from both its backup and the intent."""


@dataclass(frozen=True)
class UnitRecord:
    run_id: str
    unit: str
    device: str
    position: int
    batch: int
    phase: Phase
    result: Result | None
    reason: str
    commands: list[str]
    before_hash: str | None
    after_hash: str | None
    updated: float

    @property
    def finished(self) -> bool:
        return self.phase == "done"

    @property
    def needs_attention(self) -> bool:
        """The device may hold part of the change and nothing put it back: a restore that
        failed (the only ``failed`` after a backup), or a unit caught mid-change by a stop.
        Its pre-change backup (``before_hash``) is in the store for ``rollback`` / ``resume``."""
        if not self.before_hash:
            return False
        if self.finished:
            return self.result == "failed"
        return self.phase in CHANGING_PHASES


@dataclass(frozen=True)
class Run:
    id: str
    created: float
    finished: float | None
    user: str
    kind: str
    plan_path: str | None
    plan_hash: str | None
    scope: dict[str, Any]
    options: dict[str, Any]
    status: str
    pid: int | None


def new_run_id() -> str:
    """Sortable and unique: ``20261125T120501-3f9a``."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def create(
    conn: sqlite3.Connection,
    kind: str,
    plan_path: str | None,
    plan_hash: str | None,
    scope: dict[str, Any],
    options: dict[str, Any],
    units: list[tuple[str, str, int, list[str]]],
) -> str:
    """Record a new run and all its units as pending, in one transaction."""
    run_id = new_run_id()
    now = time.time()
    with transaction(conn):
        conn.execute(
            "INSERT INTO runs (id, created, user, kind, plan_path, plan_hash, scope, options, status, pid) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                run_id,
                now,
                current_user(),
                kind,
                plan_path,
                plan_hash,
                json.dumps(scope),
                json.dumps(options),
                "running",
                os.getpid(),
            ),
        )
        for position, (unit, device, batch, commands) in enumerate(units):
            conn.execute(
                "INSERT INTO run_units (run_id, unit, device, position, batch, phase, commands, updated) VALUES (?,?,?,?,?,?,?,?)",
                (run_id, unit, device, position, batch, "pending", json.dumps(commands), now),
            )
    return run_id


def set_phase(
    conn: sqlite3.Connection,
    run_id: str,
    unit: str,
    device: str,
    phase: Phase,
    *,
    result: Result | str | None = None,
    reason: str | None = None,
    before_hash: str | None = None,
    after_hash: str | None = None,
) -> None:
    fields = ["phase=?", "updated=?"]
    values: list[Any] = [phase, time.time()]
    for name, value in (
        ("result", result),
        ("reason", reason),
        ("before_hash", before_hash),
        ("after_hash", after_hash),
    ):
        if value is not None:
            fields.append(f"{name}=?")
            values.append(value)
    with transaction(conn):
        conn.execute(
            f"UPDATE run_units SET {', '.join(fields)} WHERE run_id=? AND unit=? AND device=?",  # noqa: S608 - fixed names
            (*values, run_id, unit, device),
        )


def finish(conn: sqlite3.Connection, run_id: str, status: str) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE runs SET status=?, finished=?, pid=NULL WHERE id=?", (status, time.time(), run_id)
        )


def claim(conn: sqlite3.Connection, run_id: str) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE runs SET status='running', pid=?, finished=NULL WHERE id=?", (os.getpid(), run_id)
        )


def get(conn: sqlite3.Connection, run_id: str | None = None) -> Run:
    """A run by id, or the newest one; a clear error if there is none."""
    if run_id is None:
        row = conn.execute("SELECT * FROM runs ORDER BY created DESC LIMIT 1").fetchone()
        if row is None:
            raise StateError("no rollout run recorded yet")
    else:
        row = conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            near = [r["id"] for r in conn.execute("SELECT id FROM runs ORDER BY created DESC LIMIT 3")]
            raise StateError(f"no run '{run_id}'" + (f" (recent: {', '.join(near)})" if near else ""))
    return Run(
        row["id"],
        row["created"],
        row["finished"],
        row["user"],
        row["kind"],
        row["plan_path"],
        row["plan_hash"],
        json.loads(row["scope"]),
        json.loads(row["options"]),
        row["status"],
        row["pid"],
    )


def units(conn: sqlite3.Connection, run_id: str) -> list[UnitRecord]:
    rows = conn.execute("SELECT * FROM run_units WHERE run_id=? ORDER BY position", (run_id,)).fetchall()
    return [
        UnitRecord(
            r["run_id"],
            r["unit"],
            r["device"],
            r["position"],
            r["batch"],
            cast(Phase, r["phase"]),
            cast("Result | None", r["result"]),
            r["reason"],
            json.loads(r["commands"]),
            r["before_hash"],
            r["after_hash"],
            r["updated"],
        )
        for r in rows
    ]


def recent(conn: sqlite3.Connection, limit: int = 20) -> list[Run]:
    ids = [r["id"] for r in conn.execute("SELECT id FROM runs ORDER BY created DESC LIMIT ?", (limit,))]
    return [get(conn, i) for i in ids]


def alive(run: Run) -> bool:
    """Whether the process that owns a 'running' run still exists (else it was killed)."""
    if run.status != "running" or run.pid is None:
        return False
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
