"""The daemon with a wall clock a test can step: ``python -m tests.monitor.clockshim FILE ARGS…``.

The real clock cannot be stepped safely on a shared machine, and a time namespace moves only the
monotonic and boot-time clocks. So this runs ``python -m govnet.monitor ARGS…`` unchanged, except
that the wall clock the scheduling reads, ``datetime.now`` in APScheduler and in
`govnet.monitor.daemon`, is the real one plus the number of seconds written in ``FILE`` (re-read
when the file changes). The monotonic clock stays real, as in an NTP step. (``time.time`` is left
alone: replacing it process-wide stalled the daemon's probes in a way not worth chasing for a test
harness; the daemon's own wall-clock step detection reads ``datetime.now`` like its scheduler.)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import runpy
import sys
import time
from pathlib import Path

_real_time = time.time
_file = Path(sys.argv[1] if __name__ == "__main__" and len(sys.argv) > 1 else os.devnull)
_seen: tuple[int, float] = (-1, 0.0)


def offset() -> float:
    global _seen  # noqa: PLW0603 - one process-wide clock, like the real one
    try:
        stamp = os.stat(_file).st_mtime_ns
    except FileNotFoundError:
        return 0.0
    if stamp != _seen[0]:
        with contextlib.suppress(ValueError):  # half-written: the next call reads it again
            _seen = (stamp, float(_file.read_text().strip() or 0))
    return _seen[1]


def stepped_time() -> float:
    return _real_time() + offset()


class SteppedDatetime(_dt.datetime):
    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> SteppedDatetime:
        return cls.fromtimestamp(stepped_time(), tz)


def main() -> None:
    import apscheduler.executors.base  # noqa: PLC0415 - patched before the daemon starts
    import apscheduler.schedulers.base  # noqa: PLC0415
    import apscheduler.triggers.interval  # noqa: PLC0415

    import govnet.monitor.daemon  # noqa: PLC0415

    for module in (
        apscheduler.executors.base,
        apscheduler.schedulers.base,
        apscheduler.triggers.interval,
        govnet.monitor.daemon,
    ):
        module.datetime = SteppedDatetime  # type: ignore[union-attr]
    sys.argv = ["govnet.monitor", *sys.argv[2:]]
    runpy.run_module("govnet.monitor", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
