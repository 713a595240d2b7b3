"""Group commit of a rollout's records: one writer thread, one transaction for what is waiting.

Every unit of an apply writes about six records (its backup, the intent before the push, the
phases after it, the verified backup and audit entry), and each must be committed before the
unit goes on: that is what makes ``resume`` safe after a SIGKILL. With one transaction per
record under a shared lock, a worker thread that took the lock had to win the GIL back after
every SQLite call, fsync and flock while fifty SSH threads held it: the lock was always busy and
worker threads spent 79 % of an apply waiting for it (py-spy, bench/README.md "Rollout").

``Recorder.write(record)`` hands the record to this process's writer thread and waits until it
is committed. The writer takes everything waiting, runs it in one transaction (under the audit
trail's ``turn``, with one ``audit.head`` move), commits once and wakes every waiter: each
record is still durable before its caller goes on; a failed commit fails every record of the
batch with the store's error.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from govnet.errors import GovnetError, StateError
from govnet.state import audit
from govnet.state.db import connect, transaction

T = TypeVar("T")
Record = Callable[[sqlite3.Connection], Any]


class Recorder:
    """This process's writer of one run's records (started at the first ``write``)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._waiting: list[tuple[Record, Future[Any]]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False
        self.batches = 0
        """Transactions committed so far (each holds one or more records)."""

    def write(self, record: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``record`` in the next transaction; return its result once that is committed."""
        future: Future[T] = Future()
        with self._wake:
            if self._closing:
                raise StateError(f"{self.state_dir}: the run's records are closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="rollout-records", daemon=True)
                self._thread.start()
            self._waiting.append((record, future))
            self._wake.notify()
        return future.result()

    def close(self) -> None:
        """Commit what is waiting, then stop the writer; safe to call twice."""
        with self._wake:
            self._closing = True
            self._wake.notify()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        with contextlib.ExitStack() as stack:
            conn: sqlite3.Connection | None = None
            while True:
                with self._wake:
                    while not self._waiting and not self._closing:
                        self._wake.wait()
                    if not self._waiting:
                        return
                    batch, self._waiting = self._waiting, []
                if conn is None:
                    try:
                        conn = stack.enter_context(connect(self.state_dir))
                    except GovnetError as exc:
                        for _, future in batch:
                            future.set_exception(exc)
                        continue
                self._commit(conn, batch)

    def _commit(self, conn: sqlite3.Connection, batch: list[tuple[Record, Future[Any]]]) -> None:
        results: list[Any] = []
        try:
            with audit.turn(self.state_dir):
                with transaction(conn):
                    results = [record(conn) for record, _ in batch]
                    audit.prepare_head(conn, self.state_dir)
                audit.commit_head(self.state_dir)
        except sqlite3.Error as exc:
            error: BaseException = StateError(f"{self.state_dir}: state store error: {exc}")
        except BaseException as exc:  # noqa: BLE001 (every waiter gets it)
            error = exc
        else:
            self.batches += 1
            for (_, future), value in zip(batch, results, strict=True):
                future.set_result(value)
            return
        for _, future in batch:
            future.set_exception(error)
