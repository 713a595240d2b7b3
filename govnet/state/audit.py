"""An append-only, hash-chained audit trail of every change govnet makes.

Each entry's hash covers the previous entry's hash and the entry itself (canonical JSON), so
editing an entry breaks its hash and deleting one breaks the next entry's link. The newest
hash is also written to ``audit.head`` beside the database, which catches the deletion of the
last entries. Entries never hold secrets: callers pass masked commands and diffs.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govnet.errors import StateError
from govnet.state.db import transaction

GENESIS = "0" * 64
HEAD_FILE = "audit.head"
LOCK_FILE = "audit.lock"


def current_user() -> str:
    """Who is making the change: the OS user (sudo's caller when run through sudo)."""
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _digest(
    prev: str, seq: int, at: float, user: str, action: str, run_id: str | None, unit: str | None, detail: str
) -> str:
    body = json.dumps(
        [seq, repr(at), user, action, run_id, unit, detail], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256((prev + body).encode()).hexdigest()


def append(
    conn: sqlite3.Connection,
    state_dir: Path,
    action: str,
    detail: dict[str, Any],
    *,
    run_id: str | None = None,
    unit: str | None = None,
    also: Callable[[sqlite3.Connection], object] | None = None,
) -> int:
    """Add one entry; returns its sequence number. ``also`` writes more in the same transaction.

    Writers in several processes (a rollout's workers) take turns (``turn``) for the whole
    append, from reading the newest entry to moving ``audit.head``: the SQLite write lock alone
    ends at the commit, and two heads moved after it in the wrong order would leave
    ``audit.head`` behind the chain (or a writer's temporary head taken by another).
    """
    if conn.in_transaction:  # the turn is taken before the SQLite write lock, never after
        raise StateError("audit entries are appended in their own transaction")
    with turn(state_dir):
        with transaction(conn):
            seq = entry(conn, action, detail, run_id=run_id, unit=unit)
            if also is not None:
                also(conn)
            prepare_head(conn, state_dir)
        commit_head(state_dir)
    return seq


def entry(
    conn: sqlite3.Connection,
    action: str,
    detail: dict[str, Any],
    *,
    run_id: str | None = None,
    unit: str | None = None,
) -> int:
    """Write one entry in the caller's transaction, which holds the ``turn`` and moves the head
    (``prepare_head`` before its commit, ``commit_head`` after): several entries, one commit."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row["seq"] + 1, row["hash"]) if row else (1, GENESIS)
    at, user = time.time(), current_user()
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = _digest(prev, seq, at, user, action, run_id, unit, text)
    conn.execute(
        "INSERT INTO audit (seq, at, user, action, run_id, unit, detail, prev, hash) VALUES (?,?,?,?,?,?,?,?,?)",
        (seq, at, user, action, run_id, unit, text, prev, digest),
    )
    return seq


@contextlib.contextmanager
def turn(state_dir: Path) -> Iterator[None]:
    """This writer's turn at the audit trail (an exclusive ``flock`` on ``audit.lock``; taken
    before the SQLite write lock by every writer, so the two never wait for each other in
    opposite orders)."""
    path = state_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise StateError(f"{path}: cannot open the audit lock: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def prepare_head(conn: sqlite3.Connection, state_dir: Path) -> None:
    """Write the newest entry's head beside the old one *before* the transaction commits: if
    the disk is full the entries are rolled back with it, so the chain and ``audit.head`` never
    disagree. (``commit_head``'s rename after the commit needs no new space.)"""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    if row is not None:
        _prepare_head(state_dir, row["seq"], row["hash"])


def commit_head(state_dir: Path) -> None:
    """Move the head written by ``prepare_head`` into place (nothing to do if none was)."""
    path = state_dir / HEAD_FILE
    with contextlib.suppress(FileNotFoundError):
        path.with_suffix(".tmp").replace(path)


def _prepare_head(state_dir: Path, seq: int, digest: str) -> None:
    """Write the new head beside the old one *before* the entry commits: if the disk is full
    the entry is rolled back with it, so the chain and ``audit.head`` never disagree. (The
    rename after the commit needs no new space.)"""
    tmp = (state_dir / HEAD_FILE).with_suffix(".tmp")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{seq} {digest}\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise StateError(f"{tmp}: cannot write the audit head: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    entries: int
    problems: list[str]


def verify(conn: sqlite3.Connection, state_dir: Path) -> ChainVerdict:
    """Recompute the chain; report every broken link, edited entry and missing tail."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    last_hash = GENESIS
    for row in conn.execute("SELECT * FROM audit ORDER BY seq"):
        count += 1
        seq = row["seq"]
        if seq != expected_seq:
            problems.append(f"entries {expected_seq}..{seq - 1} are missing (deleted)")
        if row["prev"] != prev:
            problems.append(
                f"entry {seq}: does not follow the entry before it (an entry was deleted or edited)"
            )
        digest = _digest(
            row["prev"], seq, row["at"], row["user"], row["action"], row["run_id"], row["unit"], row["detail"]
        )
        if digest != row["hash"]:
            problems.append(f"entry {seq}: content does not match its hash (edited)")
        prev, expected_seq, last_hash = row["hash"], seq + 1, row["hash"]
    head = state_dir / HEAD_FILE
    if head.exists():
        try:
            head_seq_text, head_hash = head.read_text().split()
            head_seq = int(head_seq_text)
        except ValueError:
            problems.append(f"{head}: unreadable")
        else:
            if head_seq != expected_seq - 1 or head_hash != last_hash:
                problems.append(
                    f"the newest entry is {expected_seq - 1} but {HEAD_FILE} records {head_seq}: entries at the end were deleted or added outside govnet"
                )
    elif count:
        problems.append(f"{head} is missing")
    return ChainVerdict(not problems, count, problems)
