"""One unit's change in an apply: the procedure as a table of phase -> step (``STEPS``).

Per unit: back up the running config → record the intent → push → save → verify (the running
config holds the intent; the unit, and the units behind it that answered before, still answer
ICMP) → on any failure restore the backup. Each phase is committed to the state store before
the action it announces starts, and each phase names the step that takes the unit on from it:
a new run starts every unit at ``pending``, ``resume`` starts each at the phase recorded for it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from govnet.devices.session import Session
from govnet.errors import GovnetError, StateError
from govnet.inventory.models import Device, Node, Unit
from govnet.render.secrets import substitute
from govnet.rollout import runs
from govnet.rollout.context import Context, scoped_text
from govnet.rollout.pinger import Pinger
from govnet.rollout.planfile import PlanUnit
from govnet.rollout.records import Recorder
from govnet.rollout.remediate import Remediation, remediate, running_hash, stays_in_view
from govnet.rollout.restore import restore_commands
from govnet.rollout.runner import FailureThreshold, Job, UnitResult
from govnet.rollout.runs import Phase, Result
from govnet.state import audit, backups
from govnet.state.db import connect

STALE = "stale: the running config changed since planning (plan again)"


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
        return FailureThreshold(self.max_failures).limit(total) or 0


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


@dataclass
class UnitChange:
    """One unit's change while its steps run: what each step leaves for the next."""

    planned: PlanUnit
    element: Unit | Node
    device: Device
    intended: str
    session: Session
    start: Phase
    """Where this unit started: ``pending``, or the phase a resumed run recorded for it."""
    running: str = ""
    as_planned: bool = False
    """The running config is the one the plan was made from (its commands are the ones to send)."""
    before: str = ""
    """The pre-change backup's hash."""
    baseline: set[str] = field(default_factory=set)
    """Addresses that answered ICMP before the push (verify expects them to answer after it)."""
    why: str = ""
    """Why the change is being restored."""

    @property
    def untouched(self) -> bool:
        """Nothing of the change can have reached the device before this run started it."""
        return self.start in ("pending", "backed_up")


def _first_line(exc: BaseException) -> str:
    return next(iter(exc.lines())) if isinstance(exc, GovnetError) else str(exc)


class Applier:
    """Runs the per-unit procedure for one run; safe to call from worker threads."""

    def __init__(
        self, ctx: Context, run_id: str, segment: str, options: Options, units: Sequence[PlanUnit] = ()
    ) -> None:
        """``units``: what this run may change; its reachability checks ping only their addresses."""
        self.ctx, self.run_id, self.segment, self.options = ctx, run_id, segment, options
        self.units = list(units)
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
        socket (the parent process keeps the hooks: silences, progress, the run's end)."""
        return Applier(self.ctx, self.run_id, self.segment, self.options, units=self.units)

    def close(self) -> None:
        """Commit the last records and stop their writer; close the ICMP checks' socket."""
        self.pinger.close()
        self.records.close()

    # -- records ----------------------------------------------------------------------------
    def _phase(self, unit: str, device: str, phase: Phase, **extra: Any) -> None:
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

    def finish(self, unit: str, device: str, result: Result, reason: str = "") -> UnitResult[None]:
        self._phase(unit, device, "done", result=result, reason=reason)
        return UnitResult(unit, device, result, reason)

    # -- the procedure ----------------------------------------------------------------------
    def apply_unit(self, job: Job[tuple[PlanUnit, Phase]]) -> UnitResult[None]:
        """Take one unit from the phase it is at (``pending`` in a new run) to ``done``."""
        planned, start = job.item
        element = self.ctx.element(planned.id)
        device = self.ctx.device(element, planned.device)
        if planned.status == "refused":
            return self.finish(planned.id, device.name, "skipped", planned.reason)
        intended = scoped_text(self.ctx.render(element, device), self.segment)
        try:
            session = self.ctx.session(device)
        except GovnetError as exc:
            return self.finish(planned.id, device.name, "failed", f"cannot connect: {_first_line(exc)}")
        with session:
            change = UnitChange(planned, element, device, intended, session, start)
            self._read(change)
            return self._steps(change)

    def _read(self, change: UnitChange) -> None:
        """The running config now, whether it is the planned one, and a resumed unit's backup."""
        change.running = running = change.session.running_config()
        platform = change.device.platform
        change.as_planned = change.planned.running_hash in (
            running_hash(platform, running),
            backups.text_hash(running),  # a plan recorded before hashes left volatile lines out
        )
        if change.start != "pending":  # its backup was recorded before it stopped
            with connect(self.ctx.state_dir) as conn:
                change.before = next(
                    (
                        r.before_hash or ""
                        for r in runs.units(conn, self.run_id)
                        if r.unit == change.element.id and r.device == change.device.name
                    ),
                    "",
                )

    def _steps(self, change: UnitChange) -> UnitResult[None]:
        """Run ``STEPS`` from the unit's phase until one returns its result; a step that fails
        once the backup is taken restores it (the store failing stops everything instead)."""
        phase = change.start
        while True:
            try:
                after = STEPS[phase](self, change)
            except StateError:
                raise  # the store cannot record anything more: the record says where this unit stood
            except (GovnetError, UnitFailed) as exc:
                if phase not in RESTORE_ON_FAILURE:
                    raise
                change.why, after = _first_line(exc), "restoring"
            if isinstance(after, UnitResult):
                return after
            phase = after

    def _back_up(self, change: UnitChange) -> Phase | UnitResult[None]:
        """Refuse a unit whose running config changed since planning; else store the backup."""
        unit, device = change.element.id, change.device
        if change.planned.running_hash and not change.as_planned:
            return self.finish(unit, device.name, "skipped", STALE)

        def backed_up(conn: sqlite3.Connection) -> str:  # the backup and its phase: one record
            digest = backups.save(conn, unit, device.name, change.running, "pre-change", self.run_id).hash
            runs.set_phase(conn, self.run_id, unit, device.name, "backed_up", before_hash=digest)
            return digest

        change.before = self.records.write(backed_up)
        return "backed_up"

    def _push(self, change: UnitChange) -> Phase | UnitResult[None]:
        """Send what the device lacks: the plan's commands when it is as planned, else the
        remediation from what it runs now (so a unit resumed mid-push is never pushed twice)."""
        unit, device, planned = change.element.id, change.device, change.planned
        if change.start == "backed_up" and planned.running_hash and not change.as_planned:
            return self.finish(unit, device.name, "skipped", STALE)
        if planned.running_hash and change.as_planned:
            commands = planned.commands
        else:
            commands = remediate(device.platform, change.running, change.intended).commands
        if not commands:  # nothing to do; or, resumed, the push had reached the device: save, verify
            return self.finish(unit, device.name, "ok") if change.untouched else "pushed"
        if self.options.verify_reachability:
            change.baseline = self._reachable(change.element, device)
        self._audit(  # the intent, before the push
            "push",
            unit,
            {"device": device.name, "commands": commands, "backup": change.before},
            also=lambda conn: runs.set_phase(conn, self.run_id, unit, device.name, "pushing"),
        )
        stays = stays_in_view(device.platform, change.running, change.intended)
        change.session.push(substitute(commands, self.ctx.resolver.resolve), stays=stays)
        self._phase(unit, device.name, "pushed")
        return "pushed"

    def _save(self, change: UnitChange) -> Phase:
        change.session.save()
        self._phase(change.element.id, change.device.name, "saved")
        return "saved"

    def _verify_step(self, change: UnitChange) -> UnitResult[None]:
        """Verify, then record the verified config (the text verify read, after the save) as the
        post-change backup, the unit verified and done, and the audit entry: one transaction."""
        shown = self._verify(change)
        unit, device, after = change.element.id, change.device, backups.text_hash(shown)

        def record(conn: sqlite3.Connection) -> None:
            backups.save(conn, unit, device.name, shown, "post-change", self.run_id)
            runs.set_phase(conn, self.run_id, unit, device.name, "verified", after_hash=after)
            runs.set_phase(conn, self.run_id, unit, device.name, "done", result="changed", reason="")

        self._audit("verified", unit, {"device": device.name, "after": after}, also=record)
        return UnitResult(unit, device.name, "changed")

    def _verify(self, change: UnitChange) -> str:
        """The running config read after the save, once it holds the intent and reachability held."""
        shown = change.session.running_config()
        left = remediate(change.device.platform, shown, change.intended)
        if not left.empty:
            raise UnitFailed(verify_failure(left))
        if self.options.verify_reachability:
            lost = change.baseline - self._reachable(change.element, change.device)
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

    def _restore(self, change: UnitChange) -> UnitResult[None]:
        """Push the pre-change backup back; log in again if the failure took the session down."""
        unit, device, before = change.element.id, change.device, change.before
        why = change.why or "govnet stopped while restoring"
        self._phase(unit, device.name, "restoring", reason=why)
        session = change.session
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
                detail = _first_line(exc)
                self._audit(
                    "restore-failed",
                    unit,
                    {"device": device.name, "backup": before, "why": why, "error": detail},
                )
                return self.finish(
                    unit,
                    device.name,
                    "failed",
                    f"{why}; RESTORE FAILED ({detail}): needs attention, backup {before[:12]}",
                )
        self._audit(
            "restore", unit, {"device": device.name, "commands": commands, "backup": before, "why": why}
        )
        return self.finish(unit, device.name, "restored", f"{why}; the pre-change backup was restored")

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


Step = Callable[[Applier, UnitChange], "Phase | UnitResult[None]"]
STEPS: dict[Phase, Step] = {
    "pending": Applier._back_up,
    "backed_up": Applier._push,
    "pushing": Applier._push,  # caught mid-push: sends only what the device still lacks
    "pushed": Applier._save,
    "saved": Applier._verify_step,
    "verified": Applier._verify_step,  # recorded with ``done`` in one transaction: never left alone
    "restoring": Applier._restore,
}
"""The procedure: the step that takes a unit on from each phase (``resume`` starts at the
phase recorded for it); each step returns the next phase or the unit's result."""
RESTORE_ON_FAILURE: frozenset[Phase] = frozenset({"backed_up", "pushing", "pushed", "saved", "verified"})
"""Phases whose step, failing, restores the pre-change backup (taken by then)."""
