"""The monitoring daemon: APScheduler jobs on the asyncio loop, probes, state, exporter.

One job per (probe, segment) at its interval; ``max_instances=1`` means a cycle that is still
running makes the next one be skipped (and counted), never overlap; each kind has its own
probe instance, so a slow SNMP cycle never delays ICMP. Traps update state at once. SIGHUP
reloads the config and inventory, keeping the old ones if the new ones are invalid.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from govnet.errors import ConfigError, GovnetError
from govnet.inventory.loader import load
from govnet.inventory.models import Inventory
from govnet.inventory.select import select
from govnet.metrics.http import Exporter
from govnet.metrics.view import View
from govnet.monitor.config import DaemonConfig, load_config
from govnet.monitor.state import Tracker, Transition
from govnet.monitor.targets import TargetSet, icmp_targets, snmp_targets, tcp_targets
from govnet.probes import base, icmp, isolation, path, snmp, tcp, traps
from govnet.probes.base import Probe, ProbeResult

log = logging.getLogger("govnet.daemon")
PROBE_MODULES = (icmp, isolation, path, snmp, tcp)
"""Importing these registers the probes; the daemon knows probes by name only."""


class Daemon:
    def __init__(self, config_path: Path, resolve: Callable[[str], str]) -> None:
        self.config_path = config_path
        self.resolve = resolve
        self.config = load_config(config_path)
        self.inventory = load(self.config.inventory).inventory
        self.owned = self._owned(self.config, self.inventory)
        self.view = View(
            self.inventory,
            Tracker(self.inventory, self.config.down_after, self.owned),
            self.inventory.site.name,
            str(self.config.shard_spec or "1/1"),
        )
        self.probes: dict[tuple[str, str], Probe] = {}
        self.exporter = Exporter(self.view, self.healthy)
        self.scheduler: AsyncIOScheduler | None = None
        self.server: asyncio.Server | None = None
        self.traps: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.cycle_listeners: list[Callable[[str, str], None]] = []
        self.path_probe: Probe | None = None

    @staticmethod
    def _owned(config: DaemonConfig, inventory: Inventory) -> set[str]:
        return {u.id for u in select(inventory, shard=config.shard_spec)}

    # -- probes --------------------------------------------------------------------------
    def _probe(self, kind: str, segment: str) -> Probe:
        key = (kind, segment)
        if key not in self.probes:
            block = self.config.block(kind, segment)
            settings = dict(block.settings if block else {})
            if kind != "snmp":
                settings["allowed_networks"] = [str(n) for n in self.config.allowed_networks]
            try:
                self.probes[key] = base.REGISTRY[kind](settings)
            except ConfigError as exc:
                raise ConfigError(f"{self.config_path}: probes.{kind}: {next(iter(exc.lines()))}") from None
        return self.probes[key]

    def check_probes(self) -> None:
        """Build every probe once so that bad settings fail at start (and on reload), not later."""
        for kind, segment in self.jobs():
            self._probe(kind, segment)

    async def check(self) -> None:
        """Everything ``start`` would refuse, without starting: probes, targets, secrets."""
        try:
            self.check_probes()
            for kind, segment in self.jobs():
                self.targets(kind, segment)
        finally:
            for probe in self.probes.values():
                await probe.close()

    def jobs(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        segments = list(self.inventory.segments)
        for kind in ("icmp", "tcp"):
            if self.config.enabled(kind):
                out += [(kind, s) for s in segments]
        if self.config.enabled("snmp"):
            out.append(("snmp", "management"))
        if "isolation" in self.config.probes and self.config.enabled("isolation"):
            out.append(("isolation", "party"))
        return out

    def targets(self, kind: str, segment: str) -> TargetSet:
        if kind == "icmp":
            return icmp_targets(self.config, self.inventory, self.owned, segment)
        if kind == "tcp":
            return tcp_targets(self.config, self.inventory, self.owned, segment)
        if kind == "snmp":
            return snmp_targets(self.config, self.inventory, self.owned, self.resolve)
        probe = self._probe("isolation", segment)
        assert isinstance(probe, isolation.IsolationProbe)
        return TargetSet([t for t in probe.targets(self.inventory) if self.config.allowed(t.address)], [])

    async def cycle(self, kind: str, segment: str) -> None:
        """One cycle of one probe on one segment; never raises (a bug is logged, the next cycle runs)."""
        stat = self.view.cycle(kind, segment)
        started, clock = time.time(), time.monotonic()
        try:
            found = self.targets(kind, segment)
            self.view.refused[kind] = len(found.refused)
            results = (
                await self._probe(kind, segment).run(found.targets, self.config.deadline(kind, segment))
                if found.targets
                else []
            )
            self._record(kind, segment, results)
        except GovnetError as exc:
            log.error("%s/%s cycle: %s", kind, segment, next(iter(exc.lines())))
            results = []
        except Exception:
            log.exception("%s/%s cycle failed (a bug)", kind, segment)
            results = []
        stat.started, stat.duration = started, time.monotonic() - clock
        stat.targets, stat.failures = len(results), sum(1 for r in results if not r.success)
        stat.cycles += 1
        if self.traps is not None:
            counts = self.traps.counts
            self.view.traps_dropped = counts["dropped_rate"] + counts["dropped_queue"] + counts["rejected"]
        self.view.touch()
        for listener in self.cycle_listeners:
            listener(kind, segment)

    def _record(self, kind: str, segment: str, results: list[ProbeResult]) -> None:
        view = self.view
        if kind == "icmp":
            for result in results:
                view.icmp[(result.target.unit, segment)] = result
                view.tracker.observe(result.target.unit, segment, result.success, result.detail, result.at)
            self._transitions(view.tracker.resolve())
        elif kind == "snmp":
            for result in results:
                unit = result.target.unit
                previous = view.snmp.get(unit)
                if (
                    previous is not None
                    and previous.uptime_seconds is not None
                    and result.uptime_seconds is not None
                    and result.uptime_seconds < previous.uptime_seconds
                ):
                    view.reboots[unit] += 1
                    view.event("reboot", unit=unit, uptime=round(result.uptime_seconds))
                view.snmp[unit] = result
        elif kind == "tcp":
            for result in results:
                view.tcp[(result.target.unit, segment, str(result.target.params.get("service", "")))] = result
        elif kind == "isolation":
            for result in results:
                key = (
                    str(result.target.params.get("vantage", "")),
                    result.target.unit,
                    result.target.segment,
                )
                old = view.isolation.get(key)
                if old is not None and old.success and not result.success:
                    view.event(
                        "isolation-breach",
                        unit=result.target.unit,
                        segment=result.target.segment,
                        detail=result.detail,
                    )
                view.isolation[key] = result

    def _transitions(self, changes: list[Transition]) -> None:
        for change in changes:
            self.view.event(
                "state", unit=change.element, segment=change.segment, old=change.old, new=change.new
            )
            log.info("%s/%s: %s -> %s", change.element, change.segment, change.old, change.new)
            if change.new == "down" and self.config.path.enabled:
                self._spawn(self._localise(change.element, change.segment))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _localise(self, element: str, segment: str) -> None:
        """Find where the path breaks (scapy, in a worker thread: off the probe hot path)."""
        entry = self.view.tracker.get(element, segment)
        last = self.view.icmp.get((element, segment))
        if entry is None or last is None:
            return
        if self.path_probe is None:
            settings = {
                "max_hops": self.config.path.max_hops,
                "timeout": self.config.path.timeout,
                "allowed_networks": [str(n) for n in self.config.allowed_networks],
            }
            self.path_probe = base.REGISTRY["path"](settings)
        assert isinstance(self.path_probe, path.PathProbe)
        found = await self.path_probe.locate(last.target.address)
        if entry.state == "down" and found.last_hop is not None:
            entry.path_hop, entry.path_hops = found.last_hop, found.last_hop_number
            self.view.event(
                "path", unit=element, segment=segment, last_hop=found.last_hop, hop=found.last_hop_number
            )
            self.view.touch()

    # -- traps ---------------------------------------------------------------------------
    def on_trap(self, event: Any) -> None:
        """linkDown/linkUp/coldStart change state now, not at the next cycle."""
        kind = str(event.kind)
        self.view.traps[kind] += 1
        unit = self._unit_by_host(str(event.source_address))
        self.view.event("trap", trap=kind, unit=unit or str(event.source_address), ifindex=event.if_index)
        if unit is None:
            self.view.touch()
            return
        if kind == "coldStart":
            self.view.reboots[unit] += 1
        if kind == "linkDown" and self._is_uplink(unit, event.if_index):
            self.view.tracker.force_down(unit, f"linkDown trap for its uplink (ifIndex {event.if_index})")
            self._transitions(self.view.tracker.resolve())
        self._spawn(self._repoll(unit))
        self.view.touch()

    def _unit_by_host(self, host: str) -> str | None:
        for element in [*self.inventory.nodes, *self.inventory.units]:
            if any(str(d.host) == host for d in element.devices):
                return element.id
        return None

    def _is_uplink(self, unit: str, if_index: int | None) -> bool:
        element, result = self.inventory.element(unit), self.view.snmp.get(unit)
        if element is None or result is None or if_index is None:
            return False
        return any(i.index == if_index and i.name == element.device.uplink for i in result.interfaces)

    async def _repoll(self, unit: str) -> None:
        """Poll one device's SNMP right away (interface states after a trap)."""
        found = snmp_targets(self.config, self.inventory, {unit}, self.resolve)
        targets = [t for t in found.targets if t.unit == unit]
        if targets:
            results = await self._probe("snmp", "management").run(targets, 5.0)
            self._record("snmp", "management", results)
            self.view.touch()

    # -- lifecycle -----------------------------------------------------------------------
    def healthy(self) -> tuple[bool, str]:
        """Unhealthy when a probe kind has not finished a cycle for three intervals (blind)."""
        now = time.time()
        for kind, segment in self.jobs():
            stat = self.view.cycles.get((kind, segment))
            limit = 3 * self.config.interval(kind, segment) + 10
            if stat is None or not stat.cycles:
                if now - self.view.started > limit:
                    return False, f"{kind}/{segment}: no cycle finished yet"
            elif now - (stat.started + stat.duration) > limit:
                return False, f"{kind}/{segment}: last cycle {now - stat.started:.0f} s ago"
        return True, "ok"

    def _schedule(self) -> None:
        assert self.scheduler is not None
        for job in self.scheduler.get_jobs():
            job.remove()
        for kind, segment in self.jobs():
            self.scheduler.add_job(
                self.cycle,
                "interval",
                args=[kind, segment],
                seconds=self.config.interval(kind, segment),
                id=f"{kind}/{segment}",
                max_instances=1,
                coalesce=True,
                next_run_time=None,
                misfire_grace_time=None,
            )
            self._spawn(self.cycle(kind, segment))  # first cycle now

    def _on_skipped(self, event: JobExecutionEvent) -> None:
        kind, _, segment = str(event.job_id).partition("/")
        self.view.cycle(kind, segment).overruns += 1

    async def reload(self) -> None:
        """SIGHUP: new config and inventory, or keep the old ones and say why."""
        try:
            config = load_config(self.config_path)
            inventory = load(config.inventory).inventory
        except GovnetError as exc:
            log.error("reload refused, keeping the running config: %s", next(iter(exc.lines())))
            self.view.event("reload-refused", detail=next(iter(exc.lines())))
            return
        old = (self.config, self.inventory, self.owned, self.probes)
        self.config, self.inventory = config, inventory
        self.owned, self.probes = self._owned(config, inventory), {}
        try:
            self.check_probes()
        except GovnetError as exc:
            self.config, self.inventory, self.owned, self.probes = old
            log.error("reload refused, keeping the running config: %s", next(iter(exc.lines())))
            return
        for probe in old[3].values():
            await probe.close()
        self.view.inventory = inventory
        self.view.tracker = Tracker(inventory, config.down_after, self.owned)
        self.view.event("reloaded", units=len(self.owned))
        self._schedule()
        self.view.touch()

    async def start(self) -> None:
        self.check_probes()
        host, port = self.config.listen_address()
        try:
            self.server = await self.exporter.serve(host, port)
        except OSError as exc:
            raise ConfigError(f"{self.config_path}: listen {host}:{port}: {exc.strerror or exc}") from None
        if self.config.traps is not None:
            self._start_traps()
        self.scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        self._schedule()
        log.info(
            "watching %d units (shard %s); metrics on http://%s:%d/metrics",
            len(self.owned),
            self.view.shard,
            host,
            port,
        )

    def _start_traps(self) -> None:
        assert self.config.traps is not None
        settings = {
            "listen": self.config.traps.listen,
            "communities": [self.resolve(c) for c in self.config.traps.communities],
            "rate": self.config.traps.rate_limit,
        }
        self.traps = traps.start(asyncio.get_running_loop(), settings, self.on_trap)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.server is not None:
            self.server.close()
        if self.traps is not None:
            self.traps.close()
        if self.path_probe is not None:
            await self.path_probe.close()
        for task in list(self._tasks):
            task.cancel()
        for probe in self.probes.values():
            await probe.close()


async def run_forever(daemon: Daemon, stop: asyncio.Event | None = None) -> None:
    """Start, wait for SIGTERM/SIGINT (SIGHUP reloads), stop."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(daemon.reload()))
    await daemon.start()
    try:
        await stop.wait()
    finally:
        await daemon.stop()
