"""Per-unit work spread over worker processes, each with its own threads.

One Python process runs Python on one core at a time, and a rollout is mostly Python: paramiko
frames, encrypts and parses every SSH packet in it. At concurrency 50 the plan and apply steps
kept one core busy and left the other mostly idle (bench/README.md, "Rollout"). ``Workers``
forks ``processes`` children (``fork``: they inherit the loaded inventory, templates and
plan, nothing is imported or parsed twice) and hands them work one item at a time as slots
free up, so the caller keeps the order, the concurrency bound, the canary and the failure
threshold exactly as with threads. Each child runs items on its own threads with its own SSH
sessions, state-store connection and ICMP socket, and sends each result (or error) back.

A child ignores SIGINT and SIGTERM (the parent decides what stops: units in flight finish) and
is killed with the parent (``PR_SET_PDEATHSIG``): a SIGKILLed govnet leaves no child pushing
behind it, only the write-ahead records that ``rollout resume`` reads. Children are forked
before the caller starts any thread of its own (a fork copies only the forking thread, and a
lock another thread held would stay held in the child); the library default is one process,
the threads of this one.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Generic, TypeVar

from govnet.errors import GovnetError

Item = TypeVar("Item")
Result = TypeVar("Result")
Work = tuple[Callable[[Item], Result], Callable[[], None]]
"""What ``make`` returns in each worker: the function run per item, and the clean-up at the end."""

_PR_SET_PDEATHSIG = 1


def default_processes() -> int:
    """One per core, at most 4 (beyond that the device side, not govnet, is the limit)."""
    return max(1, min(os.cpu_count() or 1, 4))


class WorkerLost(GovnetError):
    """A worker process ended with items in hand (killed from outside, out of memory)."""


class Workers(Generic[Item, Result]):
    """``submit(item)`` runs ``work(item)`` in one of ``processes`` workers, ``threads`` at a time
    in each. ``processes == 1``: a plain thread pool in this process, no fork."""

    def __init__(self, make: Callable[[], Work[Item, Result]], processes: int, threads: int) -> None:
        self.processes = max(1, processes)
        self.threads = max(1, threads)
        self._lock = threading.Lock()
        self._futures: dict[int, Future[Result]] = {}
        self._owner: dict[int, int] = {}
        self._load: list[int] = [0] * self.processes
        self._gone: set[int] = set()
        self._next = 0
        self._local: tuple[ThreadPoolExecutor, Work[Item, Result]] | None = None
        self._children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        self._readers: list[threading.Thread] = []
        self._send_locks: list[threading.Lock] = []
        if self.processes == 1:
            self._local = (ThreadPoolExecutor(max_workers=self.threads), make())
            return
        fork = multiprocessing.get_context("fork")
        parent = os.getpid()
        for _ in range(self.processes):
            mine, theirs = fork.Pipe()
            child = fork.Process(target=_child, args=(theirs, make, self.threads, parent), daemon=True)
            child.start()
            theirs.close()
            self._children.append((child, mine))
            self._send_locks.append(threading.Lock())
        for index in range(self.processes):  # after every fork: no thread of ours is ever copied
            reader = threading.Thread(target=self._read, args=(index,), name=f"worker-{index}", daemon=True)
            reader.start()
            self._readers.append(reader)

    def __enter__(self) -> Workers[Item, Result]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def submit(self, item: Item) -> Future[Result]:
        """Start ``item`` now (the caller bounds how many are in flight)."""
        if self._local is not None:
            pool, (work, _) = self._local
            return pool.submit(work, item)
        future: Future[Result] = Future()
        with self._lock:
            key, self._next = self._next, self._next + 1
            living = [i for i in range(self.processes) if i not in self._gone]
            if not living:
                future.set_exception(self._lost(0))
                return future
            index = min(living, key=self._load.__getitem__)
            conn = self._children[index][1]
            self._futures[key] = future
            self._owner[key] = index
            self._load[index] += 1
        try:
            with self._send_locks[index]:
                conn.send((key, item))
        except (OSError, ValueError):
            self._settle(key, None, self._lost(index))
        return future

    def close(self) -> None:
        """Let every worker finish what it holds, then end it; safe to call twice."""
        if self._local is not None:
            pool, (_, cleanup) = self._local
            pool.shutdown(wait=True)
            self._local = None
            cleanup()
            return
        for index, (_, conn) in enumerate(self._children):
            with self._send_locks[index], contextlib.suppress(OSError, ValueError):
                conn.send(None)  # no more work: finish, clean up, exit
        for reader in self._readers:
            reader.join()
        for process, conn in self._children:
            process.join()
            conn.close()
        self._children, self._readers = [], []

    def _read(self, index: int) -> None:
        process, conn = self._children[index]
        while True:
            try:
                key, ok, value = conn.recv()
            except (EOFError, OSError):
                break
            if key is None:  # the worker's clean-up is done
                break
            self._settle(key, value if ok else None, None if ok else _revived(value))
        with self._lock:  # anything still owned by this worker will never come back
            self._gone.add(index)
            orphans = [key for key, owner in self._owner.items() if owner == index]
        if orphans:
            process.join(timeout=5)  # for its exit code, which says what happened
        for key in orphans:
            self._settle(key, None, self._lost(index))

    def _settle(self, key: int, value: Any, error: BaseException | None) -> None:
        with self._lock:
            future = self._futures.pop(key, None)
            owner = self._owner.pop(key, None)
            if owner is not None:
                self._load[owner] -= 1
        if future is None:
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def _lost(self, index: int) -> WorkerLost:
        process = self._children[index][0]
        code = process.exitcode
        how = "is gone" if code is None else f"died (signal {-code})" if code < 0 else f"exited {code}"
        return WorkerLost(f"worker process {index + 1} (pid {process.pid}) {how} with work in hand")


def _child(conn: Connection, make: Callable[[], Work[Any, Any]], threads: int, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    send = threading.Lock()
    work, cleanup = make()

    def run(key: int, item: Any) -> None:
        try:
            answer: tuple[int, bool, Any] = (key, True, work(item))
        except BaseException as exc:  # noqa: BLE001 (sent to the parent, raised there)
            answer = (key, False, _portable(exc))
        with send:
            conn.send(answer)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message is None:
                break
            pool.submit(run, *message)
    try:
        cleanup()
    finally:
        with send, contextlib.suppress(OSError):
            conn.send((None, True, None))
        conn.close()


def _portable(exc: BaseException) -> Any:
    """``exc`` as it can cross to the parent: itself if it pickles, else its text and traceback."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own object, round-tripped in memory)
    except Exception:  # noqa: BLE001 (any reason it cannot cross)
        return ("unpicklable", type(exc).__name__, "".join(traceback.format_exception(exc)))
    return exc


def _revived(value: Any) -> BaseException:
    if isinstance(value, BaseException):
        return value
    _, name, text = value
    return RuntimeError(f"{name} in a worker process:\n{text}")
