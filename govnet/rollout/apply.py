"""``rollout apply``: canary units first, then the rest, in a bounded thread pool.

Per unit: back up the running config → record the intent → push → save → verify (the running
config holds the intent; the unit, and the units behind it that answered before, still answer
ICMP; the device still answers SNMP) → on any failure restore the backup. Every phase is
committed to the state store before it starts, so ``resume`` after a kill knows where each unit
stood. The run stops taking new units once failures pass ``--max-failures``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

from govnet.devices.session import Session
from govnet.errors import GovnetError, StateError
from govnet.export.silences import Silencer
from govnet.inventory.models import Device, Node, Unit
from govnet.probes import base
from govnet.probes.base import Target
from govnet.probes.icmp.probe import IcmpProbe, IcmpSettings
from govnet.render.secrets import substitute
from govnet.rollout import runs
from govnet.rollout.context import Context, scoped_text
from govnet.rollout.planfile import Plan, PlanUnit
from govnet.rollout.records import Recorder
from govnet.rollout.remediate import Remediation, remediate, running_hash, stays_in_view
from govnet.rollout.restore import restore_commands
from govnet.rollout.stopping import StopRequest
from govnet.rollout.workers import Work, Workers
from govnet.state import audit, backups
from govnet.state.db import connect


@dataclass(frozen=True)
class Options:
    concurrency: int = 10
    canary: int = 1
    max_failures: str = "10%"
    verify_reachability: bool = True
    restore_wait: float = 30.0
    """Seconds a restore keeps trying to log in again (a device rebooting comes back)."""
    processes: int = 1
    """Worker processes sharing the ``concurrency`` (``govnet.rollout.workers``); 1: threads only."""

    def threshold(self, total: int) -> int:
        """Failures allowed before the run stops (``N`` or ``PCT%`` of the units)."""
        text = self.max_failures.strip()
        if text.endswith("%"):
            return max(0, int(total * float(text[:-1]) / 100))
        return int(text)


@dataclass
class Outcome:
    unit: str
    device: str
    result: str
    reason: str = ""


@dataclass
class Report:
    run_id: str
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: bool = False
    interrupted: str = ""
    """The signal that stopped the run (``SIGTERM``); its unstarted units stay pending."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "stopped": self.stopped,
            "interrupted": self.interrupted or None,
            "units": [
                {"id": o.unit, "device": o.device, "result": o.result, "reason": o.reason}
                for o in self.outcomes
            ],
        }


class UnitFailed(Exception):
    """A unit's change failed after its backup; ``restore`` is needed."""


def verify_failure(left: Remediation) -> str:
    """What verify found still wrong after the push: intended lines missing, removed lines
    still present, or (neither) lines in another order than intended.

    >>> from govnet.rollout.remediate import Remediation
    >>> verify_failure(Remediation("huawei_vrp", ["x"], missing=["x", "y"], extra=["undo z"]))
    "verify: 2 intended line(s) missing (e.g. 'x'), 1 removed line(s) still present (e.g. 'undo z')"
    >>> verify_failure(Remediation("cisco_ios", ["no ip access-list standard A"]))
    "verify: no line missing or left over, but still to send: 'no ip access-list standard A'"
    """
    parts = []
    if left.missing:
        parts.append(f"{len(left.missing)} intended line(s) missing (e.g. {left.missing[0]!r})")
    if left.extra:
        parts.append(f"{len(left.extra)} removed line(s) still present (e.g. {left.extra[0]!r})")
    if not parts:
        first = left.commands[0] if left.commands else ""
        parts.append(f"no line missing or left over, but still to send: {first!r}")
    return "verify: " + ", ".join(parts)


class Applier:
    """Runs the per-unit procedure for one run; safe to call from worker threads."""

    def __init__(
        self,
        ctx: Context,
        run_id: str,
        segment: str,
        options: Options,
        on_done: Callable[[Outcome], None] | None = None,
        stop: StopRequest | None = None,
        silencer: Silencer | None = None,
        units: Sequence[PlanUnit] = (),
    ) -> None:
        """``units``: what this run may change; its reachability checks ping only their addresses."""
        self.ctx, self.run_id, self.segment, self.options = ctx, run_id, segment, options
        self.units = list(units)
        self.on_done = on_done
        self.stop = stop or StopRequest()
        self.silencer = silencer
        self.records = Recorder(ctx.state_dir)
        self._children: dict[str, list[Unit]] = {}
        for unit in ctx.inventory.units:
            if unit.parent is not None and segment in unit.segments:
                self._children.setdefault(unit.parent, []).append(unit)
        allowed: set[str] = set()
        for planned in units:
            element = ctx.element(planned.id)
            allowed |= self._addresses(element, ctx.device(element, planned.device))
        self.pinger = Pinger(allowed)

    def twin(self) -> Applier:
        """The same run's procedure for a worker process: its own store connection and ICMP
        socket; no callbacks, stop requests or silences (the parent process keeps those)."""
        return Applier(self.ctx, self.run_id, self.segment, self.options, units=self.units)

    def close(self) -> None:
        """Commit the last records and stop their writer; close the ICMP checks' socket."""
        self.pinger.close()
        self.records.close()

    def silenced(self, wave: Sequence[PlanUnit], what: str) -> contextlib.AbstractContextManager[object]:
        """Alertmanager silence over a wave's units (and the units behind them) while it runs."""
        ids = {u.id for u in wave if u.status != "refused"}
        ids |= {u.id for u in self.ctx.inventory.units if u.parent in ids and self.segment in u.segments}
        if self.silencer is None or not ids:
            return contextlib.nullcontext()
        self.silencer.run_id = self.run_id
        return self.silencer.wave(sorted(ids), what)

    # -- records ----------------------------------------------------------------------------
    def _phase(self, unit: str, device: str, phase: str, **extra: Any) -> None:
        self.records.write(lambda conn: runs.set_phase(conn, self.run_id, unit, device, phase, **extra))

    def _audit(
        self,
        action: str,
        unit: str,
        detail: dict[str, Any],
        also: Callable[[sqlite3.Connection], object] | None = None,
    ) -> None:
        """An audit entry, and ``also`` whatever else belongs in its transaction."""

        def record(conn: sqlite3.Connection) -> None:
            audit.entry(conn, action, detail, run_id=self.run_id, unit=unit)
            if also is not None:
                also(conn)

        self.records.write(record)

    def _finish(self, unit: str, device: str, result: str, reason: str = "") -> Outcome:
        self._phase(unit, device, "done", result=result, reason=reason)
        return Outcome(unit, device, result, reason)

    # -- the procedure ----------------------------------------------------------------------
    def apply_unit(self, planned: PlanUnit, *, resume_phase: str = "pending") -> Outcome:
        element = self.ctx.element(planned.id)
        device = self.ctx.device(element, planned.device)
        if planned.status == "refused":
            return self._finish(planned.id, device.name, "skipped", planned.reason)
        intended = scoped_text(self.ctx.render(element, device), self.segment)
        try:
            session = self.ctx.session(device)
        except GovnetError as exc:
            return self._finish(
                planned.id, device.name, "failed", f"cannot connect: {next(iter(exc.lines()))}"
            )
        with session:
            return self._apply_in(session, element, device, planned, intended, resume_phase)

    def _apply_in(
        self,
        session: Session,
        element: Unit | Node,
        device: Device,
        planned: PlanUnit,
        intended: str,
        resume_phase: str,
    ) -> Outcome:
        unit = element.id
        running = session.running_config()
        as_planned = planned.running_hash in (
            running_hash(device.platform, running),
            backups.text_hash(running),  # a plan recorded before hashes left volatile lines out
        )
        if resume_phase in ("pending", "backed_up"):
            if planned.running_hash and not as_planned:
                return self._finish(
                    unit,
                    device.name,
                    "skipped",
                    "stale: the running config changed since planning (plan again)",
                )

            def backed_up(conn: sqlite3.Connection) -> str:  # the backup and its phase: one record
                digest = backups.save(conn, unit, device.name, running, "pre-change", self.run_id).hash
                runs.set_phase(conn, self.run_id, unit, device.name, "backed_up", before_hash=digest)
                return digest

            before = self.records.write(backed_up)
        else:  # resuming a unit that was being changed when govnet died: its backup is recorded
            with connect(self.ctx.state_dir) as conn:
                before = (
                    next(
                        r.before_hash
                        for r in runs.units(conn, self.run_id)
                        if r.unit == unit and r.device == device.name
                    )
                    or ""
                )
        if resume_phase == "restoring":
            return self._restore(session, element, device, before, intended, "govnet stopped while restoring")
        if planned.running_hash and as_planned:  # as planned: the plan's commands
            commands = planned.commands
        else:
            commands = remediate(device.platform, running, intended).commands
        if not commands and resume_phase in ("pending", "backed_up"):
            return self._finish(unit, device.name, "ok")
        if not commands:  # resumed after the push reached the device: finish what was interrupted
            try:
                session.save()
                shown = self._verify(session, element, device, intended, set())
            except StateError:
                raise
            except (GovnetError, UnitFailed) as exc:
                reason = next(iter(exc.lines())) if isinstance(exc, GovnetError) else str(exc)
                return self._restore(session, element, device, before, intended, reason)
            return self._verified(element, device, shown)
        baseline = self._reachable(element, device) if self.options.verify_reachability else set()
        try:
            self._audit(  # the intent, before the push
                "push",
                unit,
                {"device": device.name, "commands": commands, "backup": before},
                also=lambda conn: runs.set_phase(conn, self.run_id, unit, device.name, "pushing"),
            )
            stays = stays_in_view(device.platform, running, intended)
            session.push(substitute(commands, self.ctx.resolver.resolve), stays=stays)
            self._phase(unit, device.name, "pushed")
            session.save()
            self._phase(unit, device.name, "saved")
            shown = self._verify(session, element, device, intended, baseline)
        except StateError:
            raise  # the store cannot record anything more: stop; the record says where this unit stood
        except (GovnetError, UnitFailed) as exc:
            reason = next(iter(exc.lines())) if isinstance(exc, GovnetError) else str(exc)
            return self._restore(session, element, device, before, intended, reason)
        return self._verified(element, device, shown)

    def _verified(self, element: Unit | Node, device: Device, shown: str) -> Outcome:
        """Record the verified config (the text verify read, after the save) as the post-change
        backup, the unit verified and done, and the audit entry: one transaction."""
        unit, after = element.id, backups.text_hash(shown)

        def record(conn: sqlite3.Connection) -> None:
            backups.save(conn, unit, device.name, shown, "post-change", self.run_id)
            runs.set_phase(conn, self.run_id, unit, device.name, "verified", after_hash=after)
            runs.set_phase(conn, self.run_id, unit, device.name, "done", result="changed", reason="")

        self._audit("verified", unit, {"device": device.name, "after": after}, also=record)
        return Outcome(unit, device.name, "changed")

    def _verify(
        self, session: Session, element: Unit | Node, device: Device, intended: str, baseline: set[str]
    ) -> str:
        """The running config read after the save, once it holds the intent and reachability held."""
        shown = session.running_config()
        left = remediate(device.platform, shown, intended)
        if not left.empty:
            raise UnitFailed(verify_failure(left))
        if self.options.verify_reachability:
            lost = baseline - self._reachable(element, device)
            if lost:
                raise UnitFailed(f"verify: {', '.join(sorted(lost))} stopped answering ICMP after the change")
        return shown

    def _reachable(self, element: Unit | Node, device: Device) -> set[str]:
        """Addresses of the element (and the units behind it, on this segment) that answer now."""
        return self.pinger.check(self._addresses(element, device))

    def _addresses(self, element: Unit | Node, device: Device) -> set[str]:
        """What a reachability check of ``device`` pings: its management address, the element's
        address on this segment, and those of the units hanging off the element."""
        addresses = {str(device.host)}
        member = element.segments.get(self.segment)  # type: ignore[call-overload]
        if member is not None:
            addresses.add(str(member.address.ip))
        for unit in self._children.get(element.id, ()):
            addresses.add(str(unit.segments[self.segment].address.ip))  # type: ignore[index]
        return addresses

    def _restore(
        self, session: Session, element: Unit | Node, device: Device, before: str, intended: str, why: str
    ) -> Outcome:
        """Push the pre-change backup back; log in again if the failure took the session down."""
        unit = element.id
        self._phase(unit, device.name, "restoring", reason=why)
        with contextlib.ExitStack() as stack:
            try:
                with connect(self.ctx.state_dir) as conn:
                    backup = backups.get_blob(conn, before)
                try:
                    current = session.running_config()
                except GovnetError:
                    session.close()
                    session = stack.enter_context(self._login_again(device))
                    current = session.running_config()
                commands = restore_commands(device.platform, current, backup)
                if commands:
                    session.push(substitute(commands, self.ctx.resolver.resolve))
                    session.save()
            except GovnetError as exc:
                detail = next(iter(exc.lines()))
                self._audit(
                    "restore-failed",
                    unit,
                    {"device": device.name, "backup": before, "why": why, "error": detail},
                )
                return self._finish(
                    unit,
                    device.name,
                    "failed",
                    f"{why}; RESTORE FAILED ({detail}): needs attention, backup {before[:12]}",
                )
        self._audit(
            "restore", unit, {"device": device.name, "commands": commands, "backup": before, "why": why}
        )
        return self._finish(unit, device.name, "restored", f"{why}; the pre-change backup was restored")

    def _login_again(self, device: Device) -> Session:
        """A new session for a restore, retried for ``restore_wait`` seconds: the failure that
        calls for the restore (a reboot, a flap) often takes the device away for a while."""
        deadline = time.monotonic() + self.options.restore_wait
        while True:
            try:
                return self.ctx.session(device)
            except GovnetError:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


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


def run_units(
    applier: Applier, todo: list[tuple[PlanUnit, str]], options: Options, total: int
) -> tuple[list[Outcome], bool]:
    """Canary first (one at a time), then the rest in the pool; stop past the failure threshold.

    The pool is ``options.processes`` worker processes (forked first, before any thread of this
    one starts) sharing ``options.concurrency``, or this process's threads; either way this
    function alone decides what starts, and sees every outcome (``applier.on_done``)."""
    outcomes: list[Outcome] = []
    limit = options.threshold(total)
    stop = applier.stop

    def failed() -> int:
        return sum(1 for o in outcomes if o.result in ("failed", "restored"))

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if applier.on_done is not None:
            applier.on_done(outcome)

    def make() -> Work[tuple[PlanUnit, str], Outcome]:
        local = options.processes <= 1
        worker = applier if local else applier.twin()
        return (
            lambda job: worker.apply_unit(job[0], resume_phase=job[1]),
            (lambda: None) if local else worker.close,
        )

    processes = max(1, min(options.processes, options.concurrency, len(todo)))
    threads = -(-options.concurrency // processes)
    if processes > 1:
        applier.ctx.compile_templates()
    canary, pending = list(todo[: options.canary]), list(todo[options.canary :])
    stopped = False
    with Workers(make, processes, threads) as pool:
        with applier.silenced([u for u, _ in canary], "canary wave"):
            while canary and not stopped and not stop.requested:
                job = canary.pop(0)  # canary units: one at a time
                record(pool.submit(job).result())
                stopped = failed() > limit
        pending = canary + pending  # canary units not started stay with the rest
        if not stopped and not stop.requested:
            with applier.silenced([u for u, _ in pending], "main wave"):
                running: set[Future[Outcome]] = set()
                try:
                    while pending or running:
                        while (
                            pending
                            and len(running) < options.concurrency
                            and not stopped
                            and not stop.requested
                        ):
                            running.add(pool.submit(pending.pop(0)))
                        if not running:
                            break
                        done, running = wait(running, return_when=FIRST_COMPLETED)
                        for future in done:
                            record(future.result())
                        stopped = stopped or failed() > limit
                except BaseException:
                    stop.request("error")  # units in flight finish; none start
                    raise
    if stopped:
        for planned, _ in pending:
            record(
                applier._finish(
                    planned.id, planned.device, "skipped", "run stopped: failures passed --max-failures"
                )
            )
    elif stop.requested:  # left pending in the store: ``resume`` starts them
        outcomes += [
            Outcome(
                planned.id,
                planned.device,
                "skipped",
                f"not started: govnet was stopped ({stop.reason}); govnet rollout resume {applier.run_id}",
            )
            for planned, _ in pending
        ]
    return outcomes, stopped


def start(
    ctx: Context,
    plan: Plan,
    plan_path: str,
    plan_hash: str,
    options: Options,
    on_done: Callable[[Outcome], None] | None = None,
    stop: StopRequest | None = None,
    silencer: Silencer | None = None,
) -> Report:
    """Record the run (all units pending), then apply it."""
    ordered = sorted(plan.units, key=lambda u: u.status == "refused")  # refused units are skipped last
    with connect(ctx.state_dir) as conn:
        run_id = runs.create(
            conn,
            "apply",
            plan_path,
            plan_hash,
            plan.scope.model_dump(),
            options.__dict__,
            [(u.id, u.device, 0 if i < options.canary else 1, u.commands) for i, u in enumerate(ordered)],
        )
        audit.append(
            conn, ctx.state_dir, "run-start", {"plan": plan_path, "units": len(ordered)}, run_id=run_id
        )
    applier = Applier(
        ctx, run_id, plan.scope.segment, options, on_done, stop=stop, silencer=silencer, units=ordered
    )
    return _run(applier, [(u, "pending") for u in ordered], options, len(ordered))


def _run(applier: Applier, todo: list[tuple[PlanUnit, str]], options: Options, total: int) -> Report:
    """Run the units and record how the run ended: done, stopped (threshold) or interrupted."""
    ctx, run_id = applier.ctx, applier.run_id
    try:
        outcomes, stopped = run_units(applier, todo, options, total)
    except StateError as exc:
        raise StateError(
            f"{next(iter(exc.lines()))}; run {run_id} stopped: every unit's state up to here is recorded "
            f"(fix the store, then govnet rollout resume {run_id})"
        ) from None
    finally:
        applier.close()
    interrupted = applier.stop.reason if applier.stop.requested else ""
    status = "stopped" if stopped else "interrupted" if interrupted else "done"
    with connect(ctx.state_dir) as conn:
        runs.finish(conn, run_id, status)
        detail: dict[str, Any] = {"stopped": stopped, "results": _counts(outcomes)}
        if interrupted:
            detail["interrupted"] = interrupted
        audit.append(conn, ctx.state_dir, "run-end", detail, run_id=run_id)
    return Report(run_id, outcomes, stopped, interrupted)


def _counts(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return counts


def resume(
    ctx: Context,
    plan: Plan,
    run_id: str,
    options: Options,
    on_done: Callable[[Outcome], None] | None = None,
    stop: StopRequest | None = None,
    silencer: Silencer | None = None,
) -> Report:
    """Finish a run: units never started run normally; units caught mid-change are completed
    from their recorded backup (never pushed twice: the remediation is recomputed); done units
    are left alone."""
    with connect(ctx.state_dir) as conn:
        run = runs.get(conn, run_id)
        if runs.alive(run):
            raise StateError(f"run {run.id} is still running (pid {run.pid})")
        records = {(r.unit, r.device): r for r in runs.units(conn, run.id)}
        runs.claim(conn, run.id)
        audit.append(
            conn,
            ctx.state_dir,
            "run-resume",
            {"pending": sum(1 for r in records.values() if not r.finished)},
            run_id=run.id,
        )
    todo = []
    for planned in plan.units:
        record = records.get((planned.id, planned.device))
        if record is None or record.finished:
            continue
        todo.append((planned, record.phase))
    units = [u for u, _ in todo]
    applier = Applier(
        ctx, run.id, plan.scope.segment, options, on_done, stop=stop, silencer=silencer, units=units
    )
    return _run(applier, todo, options, len(records))
