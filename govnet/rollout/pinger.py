"""The ICMP reachability checks of one apply, shared by its worker threads."""

from __future__ import annotations

import asyncio
import threading

from govnet.probes import base
from govnet.probes.base import Target
from govnet.probes.icmp.probe import IcmpProbe, IcmpSettings


class Pinger:
    """The ICMP checks of one apply: one probe (one kernel socket) on one event loop thread,
    shared by every worker; checks that arrive while a cycle runs go out together in the next.

    A check used to open its own raw socket and event loop for its one cycle: two per unit,
    ~10 ms of CPU each. ``allowed`` is every address the run may check (its units', and the
    units' behind them): nothing else is ever sent an echo.

    An address answers when one of ``COUNT`` echoes comes back; they go out one round at a
    time, the next only to the addresses still silent (like ``fping -r``): when everything
    answers, a check takes one round trip instead of waiting out the spacing between echoes.
    """

    COUNT = 2
    TIMEOUT = 1.0

    def __init__(self, allowed: set[str]) -> None:
        self._allowed = sorted(allowed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._probe: base.Probe | None = None
        self._queue: list[tuple[list[str], asyncio.Future[set[str]]]] = []
        self._runner: asyncio.Future[None] | None = None
        self._start = threading.Lock()

    def check(self, addresses: set[str]) -> set[str]:
        """The ``addresses`` that answer one short ICMP cycle (``COUNT`` echoes, at least one back)."""
        with self._start:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="verify-icmp", daemon=True
                )
                self._thread.start()
        return asyncio.run_coroutine_threadsafe(self._check(sorted(addresses)), self._loop).result()

    async def _check(self, addresses: list[str]) -> set[str]:
        if self._probe is None:  # made in the loop's thread, at the first check
            allowed = [f"{a}/32" for a in self._allowed]
            self._probe = IcmpProbe(
                IcmpSettings.parse({"count": 1, "timeout": self.TIMEOUT, "allowed_networks": allowed})
            )
        answer: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        self._queue.append((addresses, answer))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._drain())
        return await answer

    async def _drain(self) -> None:
        assert self._probe is not None
        while self._queue:
            batch, self._queue = self._queue, []
            silent = sorted({a for addresses, _ in batch for a in addresses})
            up: set[str] = set()
            try:
                for _ in range(self.COUNT):
                    results = await self._probe.run([Target("verify", "verify", a) for a in silent], 3.0)
                    up |= {r.target.address for r in results if r.success}
                    silent = [a for a in silent if a not in up]
                    if not silent:
                        break
            except Exception as exc:  # noqa: BLE001 (handed to each waiting worker)
                for _, answer in batch:
                    answer.set_exception(exc)
                continue
            for addresses, answer in batch:
                answer.set_result(up.intersection(addresses))

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._probe is not None:
            asyncio.run_coroutine_threadsafe(self._probe.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._probe = None
