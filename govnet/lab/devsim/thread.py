"""Run the simulator in a background thread with its own event loop.

Device sessions in govnet are blocking (netmiko in a thread pool), so tests and benchmarks that
drive them need the simulated devices served from elsewhere: this runs ``serve`` in a daemon
thread and offers blocking wrappers around the handle.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from govnet.lab.devsim.device import DeviceSpec
from govnet.lab.devsim.server import DevsimHandle, serve

T = TypeVar("T")


class BackgroundDevsim:
    """``with BackgroundDevsim(specs) as sim:`` serves the devices until the block ends."""

    def __init__(self, specs: Sequence[DeviceSpec], watch_interval: float | None = None) -> None:
        self._specs = list(specs)
        self._watch_interval = watch_interval
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._handle: DevsimHandle | None = None

    @property
    def handle(self) -> DevsimHandle:
        if self._handle is None:
            raise RuntimeError("the simulator is not running")
        return self._handle

    @property
    def specs(self) -> list[DeviceSpec]:
        """Device specs with the ports actually bound."""
        return self.handle.specs

    def spec(self, name: str) -> DeviceSpec:
        return next(s for s in self.specs if s.name == name)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the simulator's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout)

    def start(self) -> BackgroundDevsim:
        """Start the loop thread and every device; on failure, stop the thread and raise."""
        self._thread.start()
        try:
            self._handle = self.call(serve(self._specs, self._watch_interval))
        except BaseException:
            self.stop()
            raise
        return self

    def restart_device(self, name: str) -> DeviceSpec:
        """Reboot one device (it comes back with its startup configuration)."""
        return self.call(self.handle.restart_device(name))

    def stop(self) -> None:
        if self._handle is not None:
            self.call(self._handle.aclose())
            self._handle = None
        if self._thread.is_alive():
            # Sessions cut by ``aclose`` may still be unwinding: end them in the loop, so that
            # none is garbage-collected later as "Task was destroyed but it is pending".
            self.call(_cancel_the_rest())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> BackgroundDevsim:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def _cancel_the_rest() -> None:
    current = asyncio.current_task()
    rest = [task for task in asyncio.all_tasks() if task is not current]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)
