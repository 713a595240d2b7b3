"""A graceful stop for a rollout: SIGTERM (or Ctrl-C) lets the units in flight finish.

A unit stopped half-way would need a restore anyway, so the first signal only stops new units
from starting: those being changed run their procedure to the end (changed and verified, or
restored), the run is recorded ``interrupted`` and the units never started stay ``pending`` for
``govnet rollout resume``. A second signal is not caught: it stops govnet at once, which the
write-ahead record also survives (resume finishes from where each unit stood).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """Set once, from a signal handler or a failing worker; read by the scheduling loop."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()


@contextlib.contextmanager
def on_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """Turn the first SIGTERM / SIGINT into ``stop.request``; the previous handlers come back
    at once, so a second signal acts as it always did. Only the main thread can do this."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.request(signal.Signals(signum).name)
        for sig, old in previous.items():
            signal.signal(sig, old)

    for sig in SIGNALS:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
