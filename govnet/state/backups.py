"""Content-addressed configuration backups: a config is stored once, however often it is taken."""

from __future__ import annotations

import hashlib
import sqlite3
import time
import zlib
from dataclasses import dataclass

from govnet.errors import StateError


def text_hash(text: str) -> str:
    """The key of a config in the store.

    >>> text_hash("sysname A\\n")[:12]
    'e0ca33858e26'
    """
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Backup:
    id: int
    unit: str
    device: str
    hash: str
    taken: float
    reason: str
    run_id: str | None


def put_blob(conn: sqlite3.Connection, text: str) -> str:
    digest = text_hash(text)
    conn.execute(
        "INSERT OR IGNORE INTO blobs (hash, body) VALUES (?, ?)", (digest, zlib.compress(text.encode(), 6))
    )
    return digest


def get_blob(conn: sqlite3.Connection, digest: str) -> str:
    row = conn.execute("SELECT body FROM blobs WHERE hash=?", (digest,)).fetchone()
    if row is None:
        raise StateError(f"backup {digest[:12]} is missing from the store")
    text = zlib.decompress(row["body"]).decode()
    if text_hash(text) != digest:
        raise StateError(f"backup {digest[:12]} is corrupt (its content does not match its hash)")
    return text


def save(
    conn: sqlite3.Connection, unit: str, device: str, text: str, reason: str, run_id: str | None = None
) -> Backup:
    """Record a backup (the caller holds the transaction)."""
    digest = put_blob(conn, text)
    taken = time.time()
    cursor = conn.execute(
        "INSERT INTO backups (unit, device, hash, taken, reason, run_id) VALUES (?,?,?,?,?,?)",
        (unit, device, digest, taken, reason, run_id),
    )
    return Backup(int(cursor.lastrowid or 0), unit, device, digest, taken, reason, run_id)


def history(conn: sqlite3.Connection, device: str) -> list[Backup]:
    rows = conn.execute("SELECT * FROM backups WHERE device=? ORDER BY taken, id", (device,)).fetchall()
    return [
        Backup(r["id"], r["unit"], r["device"], r["hash"], r["taken"], r["reason"], r["run_id"]) for r in rows
    ]


def latest(conn: sqlite3.Connection, device: str) -> Backup | None:
    found = history(conn, device)
    return found[-1] if found else None
