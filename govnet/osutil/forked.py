"""Run a memory- or CPU-heavy piece of work in a forked child and await its bytes.

Two jobs of the daemon allocate far more than they keep: loading the inventory (a ~400 MB peak
at 10,000 units for a ~10 MB result) and rendering the /metrics exposition (hundreds of
thousands of short-lived sample objects, seconds of CPU). In the daemon's own process that peak
would stay in its RSS for good (CPython's allocator keeps arenas it has touched) and a render
would hold the GIL against the probes' event loop, delaying the ICMP replies it times.
A forked child sees the daemon's memory as it is at the fork (a consistent snapshot, for free),
works on the other core, writes its result to a pipe and exits; the parent's loop reads the pipe.

The child resets the signal wakeup fd first: it shares the event loop's self-pipe, and a signal
sent to the whole process group must not be replayed into the parent's loop. It never returns
into the parent's code: it leaves with ``os._exit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import traceback
from collections.abc import Callable

CHUNK = 1 << 20


class ChildFailed(Exception):
    """The child exited without a result (its traceback went to stderr): a bug, or it was killed."""


async def in_child(work: Callable[[], bytes], timeout: float, what: str) -> bytes:
    """``work()`` run in a forked child; its bytes, or ``ChildFailed`` / ``TimeoutError``."""
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its exit code and bytes are what the parent sees
        _child(read_fd, write_fd, work)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    chunks: list[bytes] = []
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            chunk = os.read(read_fd, CHUNK)
        except BlockingIOError:
            return
        if chunk:
            chunks.append(chunk)
        elif not done.done():
            done.set_result(None)

    loop.add_reader(read_fd, readable)
    finished = False
    try:
        await asyncio.wait_for(done, timeout)
        finished = True
    finally:
        loop.remove_reader(read_fd)
        os.close(read_fd)
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        raise ChildFailed(f"{what}: child process failed (status {status:#x}; see its traceback above)")
    return b"".join(chunks)


def _child(read_fd: int, write_fd: int, work: Callable[[], bytes]) -> None:  # pragma: no cover
    code = 1
    try:
        gc.disable()  # a collection would touch (and so copy) every page of the parent's heap
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        os.close(read_fd)
        data = memoryview(work())
        while data:
            data = data[os.write(write_fd, data) :]
        code = 0
    except BaseException:  # noqa: BLE001 - the child must always reach os._exit
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
    finally:
        os._exit(code)
