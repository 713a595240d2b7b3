"""``govnet.rollout.records``: a rollout's records committed in groups by one writer thread.

Each ``write`` returns only once its record is committed (another connection sees it); records
that wait together share a transaction; a failing record fails its whole group with one clear
error and nothing of that group is kept; the audit chain and head stay valid throughout.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from govnet.errors import StateError
from govnet.rollout.records import Recorder
from govnet.state import audit
from govnet.state.db import connect


def committed(store: Path, action: str) -> int:
    with connect(store) as conn:
        return int(conn.execute("SELECT count(*) FROM audit WHERE action=?", (action,)).fetchone()[0])


def test_each_write_is_committed_before_it_returns_and_concurrent_ones_share_commits(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    seen: list[int] = []
    start = threading.Barrier(40)

    def worker(n: int) -> None:
        start.wait()
        recorder.write(lambda conn: audit.entry(conn, "step", {"n": n}))
        seen.append(committed(tmp_path, "step"))  # visible to a second connection at once

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    recorder.close()
    recorder.close()
    assert len(seen) == 40 and min(seen) >= 1 and committed(tmp_path, "step") == 40
    assert recorder.batches < 40  # records that waited together went in one transaction
    with connect(tmp_path) as conn:
        verdict = audit.verify(conn, tmp_path)
    assert verdict.ok and verdict.entries == 40, verdict.problems


def test_a_failing_record_fails_its_group_and_keeps_nothing_of_it(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.write(lambda conn: audit.entry(conn, "before", {}))

    def broken(conn: sqlite3.Connection) -> None:
        audit.entry(conn, "half", {})
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(StateError, match=r": state store error: no such table: no_such_table$"):
        recorder.write(broken)
    recorder.write(lambda conn: audit.entry(conn, "after", {}))
    recorder.close()
    assert committed(tmp_path, "half") == 0 and committed(tmp_path, "after") == 1
    with connect(tmp_path) as conn:
        assert audit.verify(conn, tmp_path).ok
    with pytest.raises(StateError, match="records are closed"):
        recorder.write(lambda conn: None)
