"""Run Python code inside a named network namespace without spawning a process.

``setns`` in a throw-away thread: sockets opened by the code stay in that namespace, the
caller's threads are untouched. The isolation and path probes open their vantage sockets this
way; the lab sets sysctls and starts its agents the same way (`govnet.lab.system`).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from govnet.errors import LabError

T = TypeVar("T")
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def netns_path(name: str) -> Path:
    return NETNS_DIR / name


def in_netns(name: str, fn: Callable[[], T]) -> T:
    """Call ``fn`` in a fresh thread that has joined namespace ``name``.

    Sockets opened by ``fn`` stay in that namespace; the caller's threads are untouched.
    """
    result: list[T] = []
    errors: list[Exception] = []

    def target() -> None:
        try:
            fd = os.open(netns_path(name), os.O_RDONLY)
        except FileNotFoundError:
            errors.append(LabError(f"network namespace {name} does not exist"))
            return
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                errors.append(LabError(f"setns {name}: {os.strerror(err)}"))
                return
        finally:
            os.close(fd)
        try:
            result.append(fn())
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            errors.append(exc)

    thread = threading.Thread(target=target, name=f"netns-{name}")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
