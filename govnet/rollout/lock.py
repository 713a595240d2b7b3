"""One apply (or resume, or rollback) at a time per state store: an advisory file lock.

The kernel releases a ``flock`` when its holder dies, even by SIGKILL, so a killed apply never
leaves a stale lock behind; the run record says what it was doing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from govnet.errors import StateError

LOCK_NAME = "rollout.lock"


@contextlib.contextmanager
def exclusive(state_dir: Path, what: str) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise StateError(f"{path}: cannot open the rollout lock: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another govnet"
            raise StateError(
                f"{state_dir}: a rollout is already running ({holder}); wait for it or check govnet rollout status"
            ) from None
        # Who holds the lock is a courtesy for the next caller; a full disk must not stop here
        # (the state store then says so itself, in one line).
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}: {what}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
