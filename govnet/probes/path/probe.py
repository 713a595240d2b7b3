"""Path localisation: when a unit stops answering, which hop is the last one that still does?

Why: "unit down" tells an operator *that* something broke; the last answering hop tells them
*where* (the unit's own link, its aggregation node, the core), before anyone drives out. The
answer comes from TTL-limited echo requests, crafted with scapy (DESIGN: scapy where packets must
be crafted, never in the hot path): TTL 1..``max_hops``, ``spacing`` seconds apart; each router on
the way answers "time exceeded" for the one that dies there, the destination answers "echo
reply", and a router without a route answers "unreachable" for every TTL that reaches it.

The hops are numbered by TTL. The path *ends* at the first TTL answered with an echo reply
(``reached``) or an unreachable (the router that gave up); failing that, at the highest TTL
answered with "time exceeded". ``last_hop`` / ``last_hop_number`` name that hop. Linux routers
answer from the address of their route back to the sender (its ``src`` hint or the link toward
the sender), not from the dead link, so the last hop is an address *of* the router that still
answers.

Cost and isolation from the probe loop: one localisation is one raw socket pair (scapy's
``L3RawSocket``, opened in a worker thread, inside the vantage's namespace when it has one) and
at most ``max_hops`` packets; it stops sending and listening as soon as the path's end and every
hop before it have answered, else ``timeout`` after the last send. The spacing matters: a Linux
router sends ~6 ICMP errors to one peer in a burst, then one a second, so echoes sent past the
path's end would spend the very answer the next localisation needs. At most ``concurrency`` run
at once. scapy is imported on first use only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import AfterValidator

from govnet.errors import GovnetError
from govnet.osutil.netns import in_netns
from govnet.probes.base import ProbeResult, Target
from govnet.probes.common import (
    DEFAULT_ALLOWED,
    NOT_ALLOWED,
    Networks,
    ProbeSettings,
    Vantage,
    allowed,
    bounded,
    named,
)
from govnet.probes.path.trace import Hop, preload, trace

__all__ = ["Hop", "PathProbe", "PathResult", "PathSettings"]


class PathSettings(ProbeSettings):
    """The ``path:`` section of the daemon's config (unknown keys are errors); one set of defaults."""

    kind: ClassVar[str] = "path"
    enabled: bool = True
    max_hops: Annotated[int, bounded(1, 32, integer=True)] = 8
    timeout: Annotated[float, bounded(0.001, 10)] = 0.5
    """Seconds to wait for answers after the last send (it ends earlier once the path is known)."""
    spacing: Annotated[float, bounded(0, 1)] = 0.01
    """Seconds between the echoes of successive TTLs: routers rate-limit the ICMP errors a trace relies on."""
    concurrency: Annotated[int, bounded(1, 64, integer=True)] = 4
    """Localisations at once (each holds a thread and two raw sockets)."""
    vantages: Annotated[dict[str, Vantage], AfterValidator(named)] | None = None
    """Optional places to trace from (source and/or namespace); none: the daemon's own."""
    allowed_networks: Networks = DEFAULT_ALLOWED


@dataclass(frozen=True, slots=True)
class PathResult:
    """Where the path toward ``destination`` ends, seen from one vantage."""

    destination: str
    source: str | None
    """The source address the probes carried (chosen by the kernel's route when not configured)."""
    vantage: str | None
    hops: tuple[Hop, ...]
    """TTL 1 up to the path's end; a hop that did not answer has ``address`` None."""
    reached: bool
    last_hop: str | None
    """Address of the last hop that answered (the destination itself when reached)."""
    last_hop_number: int | None
    detail: str
    seconds: float
    """Wall time of the localisation."""


class PathProbe:
    """TTL-limited echo probes in worker threads; `locate` for one address, `run` for a batch."""

    name = "path"

    def __init__(self, settings: PathSettings | None = None) -> None:
        self.settings = settings or PathSettings()
        self._semaphore: asyncio.Semaphore | None = None

    async def close(self) -> None:
        """Nothing is held between localisations."""

    async def locate(
        self,
        destination: str,
        vantage: str | None = None,
        *,
        source: str | None = None,
        timeout: float | None = None,
    ) -> PathResult:
        """Trace toward ``destination`` from ``vantage`` (a configured name; None: from here).

        ``source`` overrides the vantage's source address; ``timeout`` can only shorten the
        configured one. Never raises for the network: every problem is the result's ``detail``.
        """
        started = time.monotonic()
        spot = self._vantage(vantage)
        if isinstance(spot, str):
            return PathResult(destination, source, vantage, (), False, None, None, spot, 0.0)
        source = source or spot.source
        if not allowed(destination, self.settings.allowed_networks):
            return PathResult(destination, source, vantage, (), False, None, None, NOT_ALLOWED, 0.0)
        wait = self.settings.timeout if timeout is None else max(0.0, min(timeout, self.settings.timeout))
        if self._semaphore is None:  # created here: it must belong to the running loop
            self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        netns, hops, spacing = spot.netns, self.settings.max_hops, self.settings.spacing

        def work() -> tuple[str | None, list[Hop], str]:
            return trace(destination, source, hops, wait, spacing)

        async with self._semaphore:
            await asyncio.to_thread(preload)
            try:
                if netns is None:
                    used, path, problem = await asyncio.to_thread(work)
                else:
                    used, path, problem = await asyncio.to_thread(in_netns, netns, work)
            except GovnetError as exc:  # the vantage's namespace is gone, or joining it was refused
                used, path, problem = source, [], str(exc)
        return _conclude(destination, used, vantage, path, problem, time.monotonic() - started)

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        """One localisation per target (``params["vantage"]``, ``source``); success = reached."""
        deadline = time.monotonic() + max(timeout, 0.0)

        async def one(target: Target) -> ProbeResult:
            left = max(0.0, deadline - time.monotonic())
            found = await self.locate(
                target.address, target.params.get("vantage"), source=target.source, timeout=left
            )
            values = {"hops": float(len(found.hops))}
            if found.last_hop_number is not None:
                values["last_hop_number"] = float(found.last_hop_number)
            return ProbeResult(
                self.name,
                target,
                found.reached,
                found.detail,
                rtt_seconds=found.hops[-1].rtt_seconds if found.reached else None,
                values=values,
            )

        return list(await asyncio.gather(*(one(t) for t in targets)))

    def _vantage(self, name: str | None) -> Vantage | str:
        if name is None:
            return Vantage()
        vantages = self.settings.vantages or {}
        if name not in vantages:
            return f"unknown vantage {name!r}"
        return vantages[name]


def _conclude(
    destination: str, source: str | None, vantage: str | None, hops: list[Hop], problem: str, seconds: float
) -> PathResult:
    """Find where the path ends (see module doc) and say it in one line."""
    if problem:
        return PathResult(destination, source, vantage, (), False, None, None, problem, seconds)
    ending = next((h for h in hops if h.final), None)
    answered = [h for h in hops if h.address is not None]
    last = ending or (answered[-1] if answered else None)
    if last is None:
        detail = "no hop answered"
        return PathResult(destination, source, vantage, (), False, None, None, detail, seconds)
    shown = tuple(h for h in hops if h.number <= last.number)
    reached = last.answer == "echo reply" and last.address == destination
    if reached:
        detail = f"reached in {last.number} hop(s)"
    else:
        why = f": {last.answer}" if last.final else ""
        detail = f"path ends at hop {last.number} ({last.address}){why}"
    return PathResult(
        destination, source, vantage, shown, reached, last.address, last.number, detail, seconds
    )
