"""The SQLite state store: one file, WAL, created 0600, migrated in place.

SQLite (stdlib) is the embedded default: transactions make the write-ahead rollout record
(intent before push) and the audit chain atomic, and WAL lets a status reader run beside an
apply. Every connection is short-lived or owned by one thread; only the one-time set-up of a store
is serialised across threads (a lock), nothing else is shared across
threads.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from govnet.errors import StateError

SCHEMA_VERSION = 1
DB_NAME = "govnet.db"
_READY: set[str] = set()
"""Stores this process has already opened (WAL set, schema created): skip that work after."""
_READYING = threading.Lock()
"""One thread at a time sets a store up: SQLite answers a second connection switching the same
new file to WAL with "database is locked" at once, without waiting out the busy timeout."""
BUSY_TIMEOUT = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    finished REAL,
    user TEXT NOT NULL,
    kind TEXT NOT NULL,               -- apply | rollback
    plan_path TEXT,
    plan_hash TEXT,
    scope TEXT NOT NULL,              -- JSON: segment, wave, units
    options TEXT NOT NULL,            -- JSON: concurrency, canary, max_failures
    status TEXT NOT NULL,             -- running | done | stopped | interrupted
    pid INTEGER
);
CREATE TABLE IF NOT EXISTS run_units (
    run_id TEXT NOT NULL REFERENCES runs(id),
    unit TEXT NOT NULL,
    device TEXT NOT NULL,
    position INTEGER NOT NULL,
    batch INTEGER NOT NULL,           -- 0 canary, 1.. waves
    phase TEXT NOT NULL,              -- pending | backed_up | pushing | pushed | saved | verified | restored | failed | skipped
    result TEXT,                      -- ok | changed | failed | skipped | restored
    reason TEXT NOT NULL DEFAULT '',
    commands TEXT NOT NULL,           -- JSON list (secrets masked)
    before_hash TEXT,
    after_hash TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (run_id, unit, device)
);
CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY,            -- sha256 of the text
    body BLOB NOT NULL                -- zlib-compressed UTF-8
);
CREATE TABLE IF NOT EXISTS backups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL,
    device TEXT NOT NULL,
    hash TEXT NOT NULL REFERENCES blobs(hash),
    taken REAL NOT NULL,
    reason TEXT NOT NULL,             -- pre-change | post-change | on-demand | drift-check
    run_id TEXT
);
CREATE INDEX IF NOT EXISTS backups_by_device ON backups (device, taken);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    run_id TEXT,
    unit TEXT,
    detail TEXT NOT NULL,             -- canonical JSON
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""


def db_path(state_dir: Path) -> Path:
    return state_dir / DB_NAME


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it (it would honour the umask)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    except FileExistsError:  # another thread or process created it first
        return
    os.close(fd)


@contextlib.contextmanager
def connect(state_dir: Path, *, create: bool = True, threads: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the store in ``state_dir``; commits on success, rolls back on error.

    ``threads``: the connection may be used from several threads (the caller serialises them,
    e.g. with a lock), so that a rollout does not open one connection per record it writes.
    """
    path = db_path(state_dir)
    try:
        if create:
            _create_private(path)
        elif not path.exists():
            raise StateError(f"{path}: no govnet state here (nothing has been run with --state {state_dir})")
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=not threads
        )
    except OSError as exc:
        raise StateError(f"{path}: cannot open the state store: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        raise StateError(f"{path}: cannot open the state store: {_why(path, exc)}") from None
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        if str(path) not in _READY:
            with _READYING:
                if str(path) not in _READY:
                    _set_up(conn)
                    _READY.add(str(path))
        _migrate(conn, path)
        # WAL + NORMAL: a committed transaction survives govnet being killed (it is in the WAL);
        # only a power cut can lose the newest ones, and never corrupts the file.
        conn.execute("PRAGMA synchronous=NORMAL")
        yield conn
    except sqlite3.DatabaseError as exc:
        raise StateError(f"{path}: state store error: {_why(path, exc)}") from None
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            with contextlib.suppress(OSError):
                side.chmod(0o600)


def _set_up(conn: sqlite3.Connection) -> None:
    """WAL (persistent in the file, so set once per store) and the schema.

    Another process may be setting up the same new store at this moment; the switch to WAL does
    not wait for it (no busy handler on that path), so it is retried here within the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    conn.executescript(SCHEMA)


def _why(path: Path, exc: Exception) -> str:
    """SQLite's message, plus the likely cause when the file system is full: SQLite says only
    "disk I/O error" when it cannot even map its WAL index there."""
    text = str(exc)
    try:
        fs = os.statvfs(path.parent)
    except OSError:
        return text
    free = fs.f_bavail * fs.f_frsize
    if free < 1 << 20:
        text += f" (no space left: {free // 1024} KiB free on the file system holding the store)"
    return text


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    if row is None:
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    elif int(row["value"]) > SCHEMA_VERSION:
        raise StateError(f"{path}: written by a newer govnet (schema {row['value']}); upgrade govnet")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT: one writer at a time, all or nothing. Inside a transaction
    already open on ``conn``, a part of it (committed or rolled back with it)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite may have rolled back already (e.g. "database or disk is full"): a second
        # ROLLBACK would raise and hide the error that matters.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
