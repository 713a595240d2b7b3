"""The state store: private files, content-addressed backups, and an audit chain that catches tampering."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest

from govnet.errors import StateError
from govnet.state import audit, backups
from govnet.state.db import connect, db_path, transaction


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fill(state: Path, count: int = 5) -> None:
    with connect(state) as conn:
        for i in range(count):
            audit.append(conn, state, "push", {"commands": [f"line {i}"]}, run_id="r1", unit=f"u{i}")


def tampered(state: Path, sql: str) -> audit.ChainVerdict:
    """The audit chain's verdict on a filled store after ``sql`` changed it behind govnet's back."""
    fill(state)
    with connect(state) as conn:
        conn.execute(sql)
        return audit.verify(conn, state)


def test_files_are_private(tmp_path: Path) -> None:
    fill(tmp_path)
    assert mode(db_path(tmp_path)) == 0o600
    assert mode(tmp_path / audit.HEAD_FILE) == 0o600
    for side in tmp_path.glob("govnet.db-*"):
        assert mode(side) == 0o600


def test_intact_chain_verifies(tmp_path: Path) -> None:
    fill(tmp_path)
    with connect(tmp_path) as conn:
        verdict = audit.verify(conn, tmp_path)
    assert verdict.ok and verdict.entries == 5 and verdict.problems == []


def test_edited_entry_is_detected(tmp_path: Path) -> None:
    verdict = tampered(tmp_path, 'UPDATE audit SET detail=\'{"commands":["undo everything"]}\' WHERE seq=3')
    assert not verdict.ok
    assert verdict.problems == ["entry 3: content does not match its hash (edited)"]


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    verdict = tampered(
        tmp_path,
        "UPDATE audit SET user='mallory', "
        "hash=(CASE substr(hash, 1, 1) WHEN 'f' THEN 'e' ELSE 'f' END)||substr(hash, 2) WHERE seq=2",
    )
    assert "entry 3: does not follow the entry before it (an entry was deleted or edited)" in verdict.problems


def test_deleted_entry_is_detected(tmp_path: Path) -> None:
    verdict = tampered(tmp_path, "DELETE FROM audit WHERE seq=2")
    assert "entries 2..2 are missing (deleted)" in verdict.problems


def test_deleted_last_entry_is_detected_by_the_head(tmp_path: Path) -> None:
    verdict = tampered(tmp_path, "DELETE FROM audit WHERE seq=5")
    assert not verdict.ok
    assert "records 5" in verdict.problems[0]


def test_backups_are_stored_once_and_checked(tmp_path: Path) -> None:
    config = "sysname LH-A\n#\ninterface Vlanif101\n ip address 198.18.4.2 255.255.255.255\n"
    with connect(tmp_path) as conn, transaction(conn):
        first = backups.save(conn, "sz-a", "LH-A", config, "pre-change", "r1")
        second = backups.save(conn, "sz-a", "LH-A", config, "on-demand")
    with connect(tmp_path) as conn:
        assert first.hash == second.hash
        assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 1
        assert [b.reason for b in backups.history(conn, "LH-A")] == ["pre-change", "on-demand"]
        assert backups.get_blob(conn, first.hash) == config
        conn.execute(
            "UPDATE blobs SET body=? WHERE hash=?", (__import__("zlib").compress(b"tampered"), first.hash)
        )
        with pytest.raises(StateError, match="corrupt"):
            backups.get_blob(conn, first.hash)


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no govnet state here"), connect(tmp_path / "none", create=False):
        pass


def test_store_written_by_a_newer_govnet_is_refused(tmp_path: Path) -> None:
    fill(tmp_path, 1)
    with connect(tmp_path) as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema'")
    with pytest.raises(StateError, match="newer govnet"), connect(tmp_path):
        pass


def test_an_entry_whose_head_cannot_be_written_is_not_committed(tmp_path: Path) -> None:
    """A full disk fails the head before the entry commits: chain and head never disagree."""
    fill(tmp_path, 2)
    (tmp_path / audit.HEAD_FILE).with_suffix(".tmp").mkdir()  # os.open of the new head fails
    with connect(tmp_path) as conn, pytest.raises(StateError, match="cannot write the audit head"):
        audit.append(conn, tmp_path, "push", {"commands": ["x"]}, run_id="r1", unit="u9")
    (tmp_path / audit.HEAD_FILE).with_suffix(".tmp").rmdir()
    with connect(tmp_path) as conn:
        verdict = audit.verify(conn, tmp_path)
    assert verdict.ok and verdict.entries == 2, verdict.problems


def test_a_failed_statement_inside_a_transaction_keeps_its_own_error(tmp_path: Path) -> None:
    with connect(tmp_path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    with pytest.raises(StateError, match="NOT NULL"), connect(tmp_path) as conn, transaction(conn):
        conn.execute("INSERT INTO t VALUES (NULL)")


def _first_write(store: str, start: Any, answers: Any) -> None:
    """One process's (or thread's) first write to a store nobody has set up yet."""
    start.wait()
    try:
        with connect(Path(store)) as conn, transaction(conn):
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('touched', 'yes')")
        answers.put("ok")
    except StateError as exc:
        answers.put(str(exc))


def test_many_processes_setting_up_one_new_store_all_succeed(tmp_path: Path) -> None:
    """The switch of a new store to WAL does not wait for a concurrent switch (SQLite answers
    "database is locked" at once); without the retry this failed ~1 write in 100 (CI: a plan's
    first write, beside its own threads). 60 fresh stores × 12 processes starting together."""
    fork = multiprocessing.get_context("fork")
    failed: list[str] = []
    for n in range(60):
        store = tmp_path / f"s{n}"
        start, answers = fork.Barrier(12), fork.Queue()
        workers = [fork.Process(target=_first_write, args=(str(store), start, answers)) for _ in range(12)]
        for worker in workers:
            worker.start()
        failed += [a for a in (answers.get(timeout=60) for _ in workers) if a != "ok"]
        for worker in workers:
            worker.join(timeout=60)
    assert failed == []
