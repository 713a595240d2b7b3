"""The monitoring daemon: APScheduler jobs on the asyncio loop, probes, state, exporter.

One job per (probe, segment) at its interval; ``max_instances=1`` means a cycle that is still
running makes the next one be skipped (and counted), never overlap; each job has its own
probe instance, so a slow SNMP cycle never delays ICMP. Traps update state at once. SIGHUP
reloads the config and inventory, keeping the old ones if the new ones are invalid.

A cycle's work runs in a task of its own that `stop` and `reload` cancel and wait for: SIGTERM
ends the daemon in well under a second (no probe is left writing into a closed socket, nothing
is logged as a crash), and a reload never closes a probe under a running cycle.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from govnet.errors import ConfigError, GovnetError
from govnet.inventory.select import Shard
from govnet.metrics.audit import AuditWatch
from govnet.metrics.http import Exporter
from govnet.metrics.view import ReloadStatus
from govnet.metrics.webconfig import WebConfig, load_web_config
from govnet.monitor.config import DaemonConfig
from govnet.monitor.drift import DriftJob
from govnet.monitor.record import prepare, record
from govnet.monitor.renewal import SnmpRenewal
from govnet.monitor.rollouts import read_rollouts
from govnet.monitor.setup import Setup, make_path_probe, make_probe
from govnet.monitor.state import DaemonView, Tracker, Transition
from govnet.monitor.traphandler import TrapHandler
from govnet.probes.kind import Registry
from govnet.probes.path.probe import PathProbe

log = logging.getLogger("govnet.daemon")
NAMED = 5
"""Refused targets, or state changes of one kind, named one by one in the log; beyond, a count."""
ROLLOUT_REFRESH = 5.0
"""Seconds between reads of the rollout runs in the state store (for Grafana annotations)."""
BLOCKED = 1.0
"""Seconds of event-loop lag worth a warning in the log."""
LOCALISE_AT_ONCE = 2
LOCALISE_WAITING = 16
"""Path localisations run (scapy, in worker threads) and queued at most: when hundreds of units go
down at once (a core failure, or a starved daemon), localising them all would hold the GIL against
the probes' event loop and make things worse; the first ones still say where the break is."""
CLOCK_STEP = 2.0
"""Seconds by which the wall clock must move apart from the monotonic one to count as a step."""


class Daemon:
    def __init__(
        self,
        config_path: Path,
        resolve: Callable[[str], str],
        shard: Shard | None = None,
        kinds: Registry | None = None,
        *,
        web_config: Path | None = None,
    ) -> None:
        self.config_path = config_path
        self.kinds = kinds
        """The probe kinds it runs (`govnet.probes.registry.default_kinds` when None)."""
        self.shard = shard
        """``--shard K/N``: overrides the config's ``shard:``, at start and at every reload."""
        self.web_config = web_config
        """``--web.config.file``: overrides the config's ``web_config_file:`` (its users and
        certificates are re-read when they change: `govnet.metrics.webconfig.WebWatch`)."""
        self.web = WebConfig()
        self.audit = AuditWatch()
        """The audit trail's head, exported and logged (govnet.metrics.audit)."""
        self.resolve = resolve
        self._setup: Setup | None = None
        self._view: DaemonView | None = None
        self.exporter: Exporter | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.server: asyncio.Server | None = None
        self.traps: Any = None
        self._tasks: set[asyncio.Future[Any]] = set()
        """Cycle work, path localisations and trap-driven polls: cancelled by stop and reload."""
        self._jobs_running: set[asyncio.Task[Any]] = set()
        self._reloading = asyncio.Lock()
        self.cycle_listeners: list[Callable[[str, str], None]] = []
        self.renewal = SnmpRenewal()
        self.trap_handler = TrapHandler(self)
        self.path_probe: PathProbe | None = None
        self.drift = DriftJob(self)
        """The scheduled drift check (govnet.compliance): its own job, in its own thread."""
        self._watch: asyncio.Task[None] | None = None
        self._localising = 0
        self._localise_gate: asyncio.Semaphore | None = None

    @property
    def setup(self) -> Setup:
        assert self._setup is not None, "call open() first"
        return self._setup

    @property
    def view(self) -> DaemonView:
        assert self._view is not None, "call open() first"
        return self._view

    @property
    def config(self) -> DaemonConfig:
        return self.setup.config

    @property
    def owned(self) -> frozenset[str]:
        return self.setup.owned

    def jobs(self) -> list[tuple[str, str]]:
        return self.setup.jobs

    async def open(self, *, warn: bool = True) -> None:
        """Load and check everything `start` needs; a ``ConfigError`` names ``FILE:LINE``."""
        setup = await Setup.open(self.config_path, self.resolve, self.shard, self.kinds)
        try:
            self._check_secrets(setup)
            web_config = self.web_config or setup.config.web_config_file
            self.web = load_web_config(web_config) if web_config is not None else WebConfig()
            if warn:
                self._warn_refused(setup)
        except GovnetError:
            await setup.close()
            raise
        self._setup = setup
        tracker = Tracker(setup.site, setup.config.down_after, setup.owned)
        shard = str(setup.config.shard_spec or "1/1")
        self._view = DaemonView(setup.site, tracker, setup.site.name, shard, setup.config.kinds)
        prepare(self._view, setup.job_targets())
        self.exporter = Exporter(self._view, self.healthy, more=[self.audit])

    async def check(self) -> dict[str, list[str]]:
        """Everything ``start`` would refuse, without starting; the targets it would not probe."""
        await self.open(warn=False)
        try:
            return self.setup.refused()
        finally:
            await self.setup.close()

    def _check_secrets(self, setup: Setup) -> None:
        """The trap receiver's secrets resolve now, not at 3 a.m. (the probes' did in `Setup.open`)."""
        if setup.config.traps is not None:
            for index, ref in enumerate(setup.config.traps.communities):
                try:
                    self.resolve(ref)
                except GovnetError as exc:
                    where = ("traps", "communities", index)
                    raise ConfigError(setup.config.problem(where, next(iter(exc.lines())))) from None

    def _warn_refused(self, setup: Setup) -> None:
        for job, refused in setup.refused().items():
            shown = ", ".join(refused[:NAMED]) + (
                f" and {len(refused) - NAMED} more" if len(refused) > NAMED else ""
            )
            log.warning(
                "%s: %d target(s) outside allowed_networks, never probed: %s", job, len(refused), shown
            )

    # -- cycles --------------------------------------------------------------------------
    async def cycle(self, kind: str, segment: str) -> None:
        """The scheduler's job: run one cycle as a task of its own and wait for it (see module doc)."""
        job = asyncio.current_task()
        if job is not None:
            self._jobs_running.add(job)
        try:
            await asyncio.wait([self.spawn(self._cycle(kind, segment))])
        finally:
            if job is not None:
                self._jobs_running.discard(job)

    def _count(self, **changed: Any) -> None:
        """Replace the daemon's counters whole (immutable: a snapshot taken before keeps its own)."""
        self.view.counters = dataclasses.replace(self.view.counters, **changed)

    async def _cycle(self, kind: str, segment: str) -> None:
        """One cycle of one probe on one segment; never raises (a bug is logged, the next cycle runs)."""
        setup, view = self.setup, self.view
        started, clock = time.time(), time.monotonic()
        try:
            found = setup.targets(kind, segment)
            self._count(refused={**view.counters.refused, (kind, segment): len(found.refused)})
            deadline = setup.config.deadline(kind, segment)
            if kind == "snmp" and self.renewal.take():
                await self._renew_snmp()
            results = await setup.run(kind, segment, deadline)
            self.transitions(record(view, kind, segment, results))
            if kind == "snmp":
                self.renewal.observe(results, self._answers_ping)
        except GovnetError as exc:
            log.error("%s/%s cycle: %s", kind, segment, next(iter(exc.lines())))
            results = []
        except Exception:
            log.exception("%s/%s cycle failed (a bug)", kind, segment)
            results = []
        done, failures = time.monotonic(), sum(1 for r in results if not r.success)
        view.set_cycle(
            view.cycle(kind, segment).finished(started, done - clock, done, len(results), failures)
        )
        self._count(tasks=len(asyncio.all_tasks()))
        if self.traps is not None:
            counts = self.traps.counts
            self._count(traps_dropped=counts["dropped_rate"] + counts["dropped_queue"] + counts["rejected"])
        view.touch()
        for listener in self.cycle_listeners:
            listener(kind, segment)

    def transitions(self, changes: list[Transition]) -> None:
        """Events, log lines and path localisations for state changes.

        A batch of more than `NAMED` changes of one kind (start-up, a core node failing with
        thousands of units behind it) is one log line with a count, not thousands.
        """
        groups: dict[tuple[str, str], list[Transition]] = {}
        skipped = 0
        for change in changes:
            self.view.event(
                "state", unit=change.element, segment=change.segment, old=change.old, new=change.new
            )
            groups.setdefault((change.old, change.new), []).append(change)
            if change.new == "down" and self.config.path.enabled:
                if self._localising < LOCALISE_WAITING:
                    self._localising += 1
                    self.spawn(self._localise(change.element, change.segment))
                else:
                    skipped += 1
        if skipped:
            log.info(
                "path localisation skipped for %d unit-segments (%d already queued)",
                skipped,
                self._localising,
            )
        for (old, new), group in groups.items():
            if len(group) <= NAMED:
                for change in group:
                    log.info("%s/%s: %s -> %s", change.element, change.segment, old, new)
            else:
                shown = ", ".join(f"{c.element}/{c.segment}" for c in group[:NAMED])
                log.info("%d unit-segments: %s -> %s (%s, …)", len(group), old, new, shown)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _localise(self, element: str, segment: str) -> None:
        """Find where the path breaks (scapy, in a worker thread: off the probe hot path)."""
        try:
            if self._localise_gate is None:
                self._localise_gate = asyncio.Semaphore(LOCALISE_AT_ONCE)
            async with self._localise_gate:
                await self._locate(element, segment)
        finally:
            self._localising -= 1

    async def _locate(self, element: str, segment: str) -> None:
        entry = self.view.tracker.get(element, segment)
        if entry is None or not entry.address or entry.state != "down":
            return
        if self.path_probe is None:
            self.path_probe = make_path_probe(self.config)
        found = await self.path_probe.locate(entry.address)
        if entry.state == "down" and found.last_hop is not None:
            entry.path_hop, entry.path_hops = found.last_hop, found.last_hop_number
            self.view.event(
                "path", unit=element, segment=segment, last_hop=found.last_hop, hop=found.last_hop_number
            )
            self.view.touch()

    def _answers_ping(self, unit: str) -> bool:
        element = self.setup.site.element(unit)
        tracker = self.view.tracker
        return element is not None and any(
            (entry := tracker.get(unit, segment)) is not None and entry.state == "up"
            for segment in element.segments
        )

    async def _renew_snmp(self) -> None:
        key = ("snmp", "management")
        old, self.setup.probes[key] = self.setup.probes[key], make_probe(self.config, "snmp", "management")
        await old.close()
        log.info("snmp: a fresh probe (engine) after a device restart or stuck SNMPv3 polls")

    # -- lifecycle -----------------------------------------------------------------------
    def healthy(self) -> tuple[bool, str]:
        """Unhealthy when a probe kind has not finished a cycle for three intervals (blind).

        Measured on the monotonic clock: a stepped wall clock neither hides nor fakes blindness.
        """
        now = time.monotonic()
        for kind, segment in self.jobs():
            stat = self.view.cycles.get((kind, segment))
            limit = 3 * self.config.interval(kind, segment) + 10
            if stat is None or not stat.cycles:
                if now - self.view.started_clock > limit:
                    return False, f"{kind}/{segment}: no cycle finished yet"
            elif now - stat.finished_clock > limit:
                return False, f"{kind}/{segment}: last cycle {now - stat.finished_clock:.0f} s ago"
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
                # first cycle now; None would add the job *paused* (APScheduler 3): the daemon
                # would probe once at start and never again
                next_run_time=datetime.now(UTC),
                misfire_grace_time=None,
            )
        self.drift.schedule(self.scheduler, self.config)
        self.scheduler.add_job(
            self.refresh_rollouts,
            "interval",
            seconds=ROLLOUT_REFRESH,
            id="rollouts",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )
        self.scheduler.add_job(
            self.refresh_audit,
            "interval",
            seconds=ROLLOUT_REFRESH,
            id="audit",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )

    async def refresh_audit(self) -> None:
        """Read the audit trail's head (in a thread: SQLite blocks); a new one is a new export."""
        if await asyncio.to_thread(self.audit.refresh, self.config.state):
            self.view.touch()

    async def refresh_rollouts(self) -> None:
        """Read the newest rollout runs from the state store (in a thread: SQLite blocks)."""
        seen = await asyncio.to_thread(read_rollouts, self.config.state)
        if seen != self.view.rollouts:
            self.view.rollouts = seen
            self.view.touch()

    async def _watch_loop(self) -> None:
        """Measure how late a short timer fires: the event loop's lag, worst of the last minute.

        A loop blocked by synchronous work delays every cycle and scrape at once (and the
        scheduler then coalesces the cycles it missed); this makes that visible and logged.
        """
        recent: deque[tuple[float, float]] = deque()
        tick = 0.25
        while True:
            # the wall clock as the scheduler reads it (datetime.now): that is the one that matters
            before, wall_before = time.monotonic(), datetime.now(UTC).timestamp()
            await asyncio.sleep(tick)
            now, wall = time.monotonic(), datetime.now(UTC).timestamp()
            lag = max(0.0, now - before - tick)
            recent.append((now, lag))
            while recent and recent[0][0] < now - 60:
                recent.popleft()
            self._count(loop_lag=max(late for _, late in recent))
            if lag > BLOCKED:
                log.warning("event loop blocked for %.1f s", lag)
            step = (wall - wall_before) - (now - before)
            if abs(step) > CLOCK_STEP:
                self._rebase(step)

    def _rebase(self, step: float) -> None:
        """The wall clock was stepped: run every job now and go on from there.

        APScheduler keeps its next run times on the wall clock: after a step back of an hour it
        would wait that hour before the next cycle (the daemon blind, /healthz failing); after a
        step forward it runs each job once (coalesced). Intervals, health and reboot detection
        run on the monotonic clock and are not affected.
        """
        log.warning("wall clock stepped by %+.0f s: every job rescheduled from now", step)
        self.view.event("clock-step", seconds=round(step))
        if self.scheduler is None or not self.scheduler.running:
            return
        now = datetime.now(UTC)
        for job in self.scheduler.get_jobs():
            job.modify(next_run_time=now)
        self.scheduler.wakeup()

    def _on_skipped(self, event: JobExecutionEvent) -> None:
        if "/" not in str(event.job_id):
            return  # not a probe job (the drift check, the rollout reader): a late one is no news
        kind, _, segment = str(event.job_id).partition("/")
        self.view.set_cycle(self.view.cycle(kind, segment).overrun())

    async def reload(self) -> None:
        """SIGHUP: new config and inventory, or keep the old ones and say why."""
        async with self._reloading:
            try:
                new = await Setup.open(self.config_path, self.resolve, self.shard, self.kinds)
                try:
                    self._check_secrets(new)
                except GovnetError:
                    await new.close()
                    raise
            except GovnetError as exc:
                why = "; ".join(exc.lines())
                log.error("reload refused, keeping the running config: %s", why)
                self.view.event("reload-refused", detail=why)
                self.view.reload = dataclasses.replace(self.view.reload, ok=False)
                self.view.touch()
                return
            self._warn_refused(new)
            # Swap first, then cancel what runs: a cycle the scheduler starts while the old ones
            # are being cancelled must already take the new setup. (Swapping after the cancel let
            # such a cycle run on an old probe whose socket `old.close()` then closed under it;
            # its fd, reused by an HTTP connection, broke ICMP after a reload: found by the
            # fault tests.)
            old, self._setup = self.setup, new
            await self._cancel_tasks()  # no cycle may still use the old probes
            await old.close()
            if self.path_probe is not None:
                await self.path_probe.close()
                self.path_probe = None
            for what in ("listen", "traps", "web_config_file"):
                if getattr(old.config, what) != getattr(new.config, what):
                    log.warning("reload: %s changed; it takes effect at the next restart", what)
            tracker = Tracker(new.site, new.config.down_after, new.owned)
            tracker.adopt(self.view.tracker)
            self.view.inventory, self.view.tracker = new.site, tracker
            self.view.prune({e for e, _ in tracker.entries})
            prepare(self.view, new.job_targets())
            self.view.cycles = {k: v for k, v in self.view.cycles.items() if k in new.jobs}
            self._count(refused={k: v for k, v in self.view.counters.refused.items() if k in new.jobs})
            self.view.event("reloaded", units=len(new.owned))
            self.view.reload = ReloadStatus(True, time.time())
            log.info("reloaded %s: watching %d units", self.config_path, len(new.owned))
            self._schedule()
            self.view.touch()

    async def start(self) -> None:
        if self._setup is None:
            await self.open()
        assert self.exporter is not None
        host, port = self.config.listen_address()
        try:
            self.server = await self.exporter.serve(host, port, self.web)
        except OSError as exc:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
            raise ConfigError(self.config.problem(("listen",), message)) from None
        if self.config.traps is not None:
            self._start_traps()
        asyncio.get_running_loop().set_exception_handler(_quiet_late_answers)
        self._watch = asyncio.ensure_future(self._watch_loop())
        self.scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        self._schedule()
        log.info(
            "watching %d units (shard %s); metrics on %s://%s:%d/metrics%s",
            len(self.owned),
            self.view.shard,
            self.web.scheme,
            host,
            port,
            f" (basic auth: {len(self.web.users)} user(s))" if self.web.users else "",
        )

    def _start_traps(self) -> None:
        assert self.config.traps is not None
        settings = {
            "listen": self.config.traps.listen,
            "communities": [self.resolve(c) for c in self.config.traps.communities],
            "rate": self.config.traps.rate_limit,
        }
        from govnet.probes.traps import receiver as traps  # noqa: PLC0415 - only when configured

        try:
            self.traps = traps.start(asyncio.get_running_loop(), settings, self.trap_handler.on_trap)
        except OSError as exc:
            message = f"cannot listen for traps on {self.config.traps.listen}: {exc.strerror or exc}"
            raise ConfigError(self.config.problem(("traps", "listen"), message)) from None

    async def stop(self) -> None:
        """Stop scheduling, cancel what runs and wait for it, close everything; idempotent."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()  # no new cycle; shutdown would cancel the running jobs (logged as crashes)
        self.drift.stop()
        if self._watch is not None:
            self._watch.cancel()
        await self._cancel_tasks()
        if self._jobs_running:  # their cycle was cancelled above: they return at once
            await asyncio.wait(list(self._jobs_running), timeout=2.0)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        # A safety net: no task (a probe's per-target work, a trap re-poll) may outlive the
        # loop's probes and write into a socket closed under it.
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=2.0)
        if self.server is not None:
            self.server.close()
        if self.exporter is not None:
            await self.exporter.close()
        if self.traps is not None:
            self.traps.close()
            self.traps = None
        if self.path_probe is not None:
            await self.path_probe.close()
        if self._setup is not None:
            await self._setup.close()


def _quiet_late_answers(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An SNMP answer read after its engine closed (a reload or stop closes the old probes while
    answers are on their way; pysnmp raises CarrierError "Unregistered transport" from the
    socket callback) is not an error worth a traceback."""
    error = context.get("exception")
    if type(error).__name__ == "CarrierError" and "Unregistered transport" in str(error):
        log.debug("an SNMP answer arrived after its engine closed: dropped")
        return
    loop.default_exception_handler(context)


async def run_forever(daemon: Daemon, stop: asyncio.Event | None = None) -> None:
    """Start, wait for SIGTERM/SIGINT (SIGHUP reloads), stop."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = asyncio.ensure_future(daemon.reload())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    try:
        await daemon.start()
        await stop.wait()
    finally:
        for task in list(reloads):
            task.cancel()
        started, serving = time.monotonic(), daemon.server is not None
        await daemon.stop()
        if serving:
            log.info("stopped in %.2f s", time.monotonic() - started)
