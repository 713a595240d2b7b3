"""Who drifted a device: govnet (who, when, which run) or someone outside govnet.

The audit trail records every change govnet makes: an apply's ``verified`` entry names the hash
of the running config it left (``after``), a rollback's ``rollback`` entry the backup it put
back. If the device's running config is what govnet's newest change left, the drift comes from
govnet — a rollback, or an intent (inventory, templates) that moved on since — and the entry
says who and when. Otherwise the config was changed outside govnet; the backups bound when: after
the last time govnet saw the config as it left it, before the first check that saw it changed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal

from govnet.devices.normalise import stable_text
from govnet.errors import GovnetError
from govnet.inventory.models import Device
from govnet.rollout.restore import differences
from govnet.state import backups

Origin = Literal["govnet", "outside govnet"]


@dataclass(frozen=True)
class Source:
    origin: Origin
    user: str | None = None
    at: float | None = None
    """govnet: when its change was made."""
    run: str | None = None
    action: str | None = None
    """govnet: ``apply`` or ``rollback``."""
    after: float | None = None
    """outside govnet: the config was still as govnet left it (or first seen) at this time …"""
    before: float | None = None
    """… and was seen changed at this time."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "user": self.user,
            "at": self.at,
            "run": self.run,
            "action": self.action,
            "after": self.after,
            "before": self.before,
        }

    def describe(self) -> str:
        """One line for tables and the status page (times in UTC)."""
        if self.origin == "govnet":
            return f"govnet {self.action} {self.run} by {self.user} at {_utc(self.at)}"
        if self.after is None:
            return f"outside govnet (no change by govnet on record; seen {_utc(self.before)})"
        return f"outside govnet (between {_utc(self.after)} and {_utc(self.before)})"


def _utc(at: float | None) -> str:
    return "?" if at is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(at))


def attribute(conn: sqlite3.Connection, unit: str, device: Device, running: str) -> Source:
    """Where the device's current (drifted) running config came from.

    Configs are compared without the platform's volatile lines (a timestamp, NTP's clock period):
    a device whose config is still what govnet left, but whose clock line moved, is govnet's.
    """
    stable = _Stable(conn, device.platform)
    digest = stable.digest(running)
    history = backups.history(conn, device.name)
    first_seen = next((b.taken for b in history if stable.of(b.hash) == digest), None)
    newest = _newest_change(conn, unit, device.name)
    if newest is None:
        return Source("outside govnet", before=first_seen)
    row, detail = newest
    action = "apply" if row["action"] == "verified" else "rollback"
    raw_left = str(detail.get("after") if action == "apply" else detail.get("backup") or "")
    left = stable.of(raw_left)
    if digest == left or (action == "rollback" and _same_as_backup(conn, device.platform, running, raw_left)):
        return Source("govnet", user=row["user"], at=row["at"], run=row["run_id"], action=action)
    intact = [b.taken for b in history if stable.of(b.hash) == left and b.taken >= row["at"] - 1]
    after = max(intact) if intact else row["at"]
    changed = [b.taken for b in history if stable.of(b.hash) == digest and b.taken >= after]
    return Source(
        "outside govnet",
        user=row["user"],
        run=row["run_id"],
        action=action,
        at=row["at"],
        after=after,
        before=min(changed) if changed else first_seen,
    )


class _Stable:
    """Hashes of configs without their volatile lines: of a text, or of a stored backup (by its
    raw hash; one not in the store keeps its raw hash, which no stable hash equals)."""

    def __init__(self, conn: sqlite3.Connection, platform: str) -> None:
        self.conn, self.platform = conn, platform
        self._known: dict[str, str] = {}

    def digest(self, text: str) -> str:
        return backups.text_hash(stable_text(self.platform, text))

    def of(self, raw: str) -> str:
        if raw not in self._known:
            try:
                self._known[raw] = self.digest(backups.get_blob(self.conn, raw))
            except GovnetError:
                self._known[raw] = f"raw:{raw}"
        return self._known[raw]


def _newest_change(
    conn: sqlite3.Connection, unit: str, device: str
) -> tuple[sqlite3.Row, dict[str, Any]] | None:
    rows = conn.execute(
        "SELECT * FROM audit WHERE unit=? AND action IN ('verified', 'rollback') ORDER BY seq DESC", (unit,)
    )
    for row in rows:
        detail = json.loads(row["detail"])
        if detail.get("device") == device:
            return row, detail
    return None


def _same_as_backup(conn: sqlite3.Connection, platform: str, running: str, digest: str) -> bool:
    """A rollback's result by the rollback's own measure (disabling lines it keeps aside)."""
    try:
        return differences(platform, running, backups.get_blob(conn, digest)) == 0
    except GovnetError:  # a missing or corrupt backup: not provably govnet's
        return False
