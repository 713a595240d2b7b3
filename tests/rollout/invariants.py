"""What must hold after any fault during a rollout, checked once for every fault test.

- the store is consistent: SQLite's integrity and foreign-key checks pass, ``audit verify``
  passes, and no run is left ``running`` by a process that is gone without saying so;
- write-ahead: every push in the audit trail names the unit's pre-change backup, which the store
  holds and ``rollout status --json`` shows;
- every unit the run touched is done-and-verified (its device now holds the verified config),
  restored (its device matches the pre-change backup again) or listed as needing attention
  (``attention: true``) with its backup at hand; units never pushed to are unchanged.

The device side is read live (``govnet config backup``) after healing the lab's faults.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from govnet.errors import StateError
from govnet.rollout.remediate import running_hash
from govnet.rollout.restore import differences
from govnet.state.backups import get_blob

CHANGING = ("pushing", "pushed", "saved", "restoring")


class LabLike(Protocol):
    state: Path

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> Any: ...

    def json(self, *args: str, check: bool = True) -> Any: ...


def heal_all(lab: LabLike) -> None:
    for fault in lab.json("lab", "status")["faults"]:
        lab.run("lab", "heal", fault["unit"])


def check_run(lab: LabLike, run_id: str, plan_path: str | Path, *, live: bool = True) -> dict[str, Any]:
    """Assert the invariants for one run; returns ``rollout status RUN --json`` by unit id."""
    status = lab.json("rollout", "status", run_id)
    assert status["status"] in ("done", "stopped") or status["status"].startswith("interrupted"), status
    conn = sqlite3.connect(lab.state / "govnet.db")
    conn.row_factory = sqlite3.Row
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    verified = lab.run("audit", "verify", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    actions: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in conn.execute("SELECT action, unit, detail FROM audit WHERE run_id=? ORDER BY seq", (run_id,)):
        actions.setdefault(row["unit"], []).append((row["action"], json.loads(row["detail"])))
    plan = {u["id"]: u for u in json.loads(Path(plan_path).read_text())["units"]}
    units = {u["id"]: u for u in status["units"]}

    expect: dict[str, tuple[str, str]] = {}  # unit -> (how its device must look, hash)
    for unit in status["units"]:
        done = [a for a, _ in actions.get(unit["id"], [])]
        pushes = [d for a, d in actions.get(unit["id"], []) if a == "push"]
        where = f"{unit['id']}: {unit}"
        if pushes:  # write-ahead: the backup was recorded before the push and is still there
            assert unit["backup"] and all(p["backup"] == unit["backup"] for p in pushes), where
            assert get_blob(conn, unit["backup"])
        if unit["phase"] != "done":
            assert status["status"].startswith("interrupted"), where
            assert unit["attention"] == (unit["phase"] in CHANGING and bool(unit["backup"])), where
            if unit["attention"]:
                assert get_blob(conn, unit["backup"])
            elif not pushes:
                expect[unit["id"]] = ("same", plan[unit["id"]]["running_hash"])
            continue
        result = unit["result"]
        if result == "changed":
            assert unit["after"] and "verified" in done and not unit["attention"], where
            expect[unit["id"]] = ("same", unit["after"])
        elif result == "restored":
            assert pushes and "restore" in done and not unit["attention"], where
            expect[unit["id"]] = ("restored", unit["backup"])
        elif result == "failed" and pushes:
            assert unit["attention"] and "needs attention" in unit["reason"], where
            assert "restore-failed" in done and get_blob(conn, unit["backup"])
        else:  # ok, skipped, or failed before any push: the device was not touched
            assert not pushes and not unit["attention"], where
            assert unit["reason"] or result == "ok", where
            if not unit["reason"].startswith("stale"):  # a stale unit was changed by someone else
                expect[unit["id"]] = ("same", plan[unit["id"]]["running_hash"])
    conn.close()
    if live and expect:
        _check_devices(lab, expect, {i: plan[i]["platform"] for i in expect})
    return units


def _check_devices(lab: LabLike, expect: dict[str, tuple[str, str]], platforms: dict[str, str]) -> None:
    heal_all(lab)
    rows = lab.json("config", "backup", *sorted(expect))
    conn = sqlite3.connect(lab.state / "govnet.db")
    conn.row_factory = sqlite3.Row
    try:
        for row in rows:
            assert row["ok"], row
            how, wanted = expect[row["unit"]]
            if how == "same":  # a backup's hash, or a plan's: the same config, volatile lines aside
                platform = platforms[row["unit"]]
                stable = running_hash(platform, get_blob(conn, row["hash"]))
                try:  # a backup's hash: compare its text the same way
                    was = running_hash(platform, get_blob(conn, wanted))
                except StateError:  # a plan's running hash is already one
                    was = wanted
                assert stable == was or row["hash"] == wanted, (
                    f"{row['unit']}: the device changed without a record"
                )
            else:
                now, backup = get_blob(conn, row["hash"]), get_blob(conn, wanted)
                assert differences(platforms[row["unit"]], now, backup) == 0, f"{row['unit']}: not restored"
    finally:
        conn.close()
