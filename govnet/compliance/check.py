"""The drift check: each device's running config against its intended config, per unit.

It agrees with ``rollout plan`` by construction: for every segment a device is on, the intent is
``scoped_text(rendered, segment)`` and the difference is ``remediate(platform, running, intent)``
— the very functions the plan calls — so a unit is compliant exactly when ``rollout plan
--segment S --unit U`` has nothing to change for each of its segments, and the commands shown are
the ones that plan would push. Lines of the security baseline are in every segment's scope; they
are counted once. A part govnet never applied to the device is ``pending`` rollout, not drift
(`govnet.compliance.pending`): the unit is drifted only where govnet's own work was changed.

Reading is blocking (netmiko) and runs in the rollout runner's bounded thread pool
(``govnet.rollout.runner``), one job per device, whose hooks show progress. The running config is recorded
as a backup (reason ``drift-check``) only when it differs from the device's newest backup
(volatile lines aside, ``govnet.devices.normalise``): a
daily check of an unchanged city adds nothing to the store (whose blobs are content-addressed
anyway). A device that cannot be read is ``unknown``, never compliant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from govnet.compliance.attribution import Source, attribute
from govnet.compliance.categories import CATEGORIES, by_category
from govnet.compliance.pending import applied_kinds, applied_segments, split_kinds
from govnet.devices.normalise import stable_text
from govnet.errors import GovnetError
from govnet.inventory.models import SEGMENTS, Device, Node, Unit
from govnet.render import Rendered
from govnet.rollout.context import Context, scoped_text
from govnet.rollout.plan import elements_in_scope
from govnet.rollout.remediate import remediate
from govnet.rollout.runner import Hooks, Job, Runner, UnitResult
from govnet.rollout.runs import Result
from govnet.rollout.workers import Work
from govnet.state import backups
from govnet.state.db import connect, transaction

State = Literal["compliant", "drifted", "pending", "unknown"]
"""``pending``: differs from the intent only in parts govnet has never applied (not yet built)."""
BACKUP_REASON = "drift-check"


@dataclass(frozen=True)
class SegmentDrift:
    """What ``rollout plan --segment S --unit U`` would do for one device."""

    segment: str
    commands: list[str]
    missing: list[str]
    extra: list[str]
    applied: bool = True
    """Whether an apply of this segment ever put it in place on the device (else: pending)."""

    @property
    def compliant(self) -> bool:
        return not (self.commands or self.missing or self.extra)

    @property
    def pending(self) -> bool:
        """Not in place and never applied: construction still to do."""
        return not self.applied and not self.compliant


@dataclass(frozen=True)
class DeviceCheck:
    """One device's check: its state and, when drifted, what drifted and who changed it."""

    unit: str
    device: str
    platform: str
    state: State
    checked: float
    reason: str = ""
    segments: tuple[SegmentDrift, ...] = ()
    categories: dict[str, tuple[int, int]] = field(default_factory=dict)
    """(missing, extra) lines per drift category, every category present once checked."""
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    backup: str | None = None
    stored: bool = False
    """Whether this check stored a new backup (the running config changed since the last one)."""
    source: Source | None = None
    pending: dict[str, tuple[int, int]] = field(default_factory=dict)
    """(missing, extra) lines per category in parts govnet has never applied (not drift)."""


@dataclass(frozen=True)
class UnitReport:
    """Per unit (or node): its devices' checks and the verdict derived from them."""

    unit: str
    segments: tuple[str, ...]
    devices: tuple[DeviceCheck, ...]

    @property
    def state(self) -> State:
        states = {d.state for d in self.devices}
        if "drifted" in states:
            return "drifted"
        if "unknown" in states or not states:
            return "unknown"
        return "pending" if "pending" in states else "compliant"

    @property
    def checked(self) -> float:
        return max((d.checked for d in self.devices), default=0.0)

    @property
    def missing(self) -> int:
        return sum(len(d.missing) for d in self.devices)

    @property
    def extra(self) -> int:
        return sum(len(d.extra) for d in self.devices)

    @property
    def categories(self) -> dict[str, tuple[int, int]]:
        out = dict.fromkeys(CATEGORIES, (0, 0))
        for device in self.devices:
            for name, (missing, extra) in device.categories.items():
                was = out[name]
                out[name] = (was[0] + missing, was[1] + extra)
        return out

    @property
    def drifted_categories(self) -> list[str]:
        return [name for name, counts in self.categories.items() if sum(counts)]

    @property
    def pending_categories(self) -> dict[str, tuple[int, int]]:
        """(missing, extra) per category in parts not yet rolled out, every category present."""
        out = dict.fromkeys(CATEGORIES, (0, 0))
        for device in self.devices:
            for name, (missing, extra) in device.pending.items():
                was = out[name]
                out[name] = (was[0] + missing, was[1] + extra)
        return out

    @property
    def pending_parts(self) -> list[str]:
        return [name for name, counts in self.pending_categories.items() if sum(counts)]

    def segment_pending(self, segment: str) -> bool:
        """Whether ``segment`` is not in place on some device and was never applied there."""
        return any(s.pending for d in self.devices for s in d.segments if s.segment == segment)

    def segment_compliant(self, segment: str) -> bool | None:
        """Whether every device's scope of ``segment`` is clean; None when one is unknown."""
        verdicts = []
        for device in self.devices:
            if device.state == "unknown":
                return None
            verdicts += [s.compliant for s in device.segments if s.segment == segment]
        return all(verdicts)

    @property
    def reason(self) -> str:
        return "; ".join(f"{d.device}: {d.reason}" for d in self.devices if d.reason)

    def remediation(self) -> list[dict[str, Any]]:
        """Per segment with something to change: the commands and the plan command that pushes them."""
        out = []
        for segment in self.segments:
            commands = [
                c for d in self.devices for s in d.segments if s.segment == segment for c in s.commands
            ]
            if commands:
                out.append(
                    {
                        "segment": segment,
                        "plan": f"govnet rollout plan --segment {segment} --unit {self.unit}",
                        "commands": commands,
                    }
                )
        return out

    def as_dict(self) -> dict[str, Any]:
        sources = [d.source for d in self.devices if d.source is not None]
        return {
            "unit": self.unit,
            "state": self.state,
            "checked": self.checked,
            "segments": {s: self.segment_compliant(s) for s in self.segments},
            "missing": self.missing,
            "extra": self.extra,
            "categories": {k: {"missing": m, "extra": e} for k, (m, e) in self.categories.items()},
            "drifted": self.drifted_categories,
            "pending": self.pending_parts,
            "pending_segments": [s for s in self.segments if self.segment_pending(s)],
            "pending_categories": {
                k: {"missing": m, "extra": e} for k, (m, e) in self.pending_categories.items()
            },
            "source": sources[0].as_dict() if sources else None,
            "reason": self.reason,
            "remediation": self.remediation(),
            "devices": [
                {
                    "device": d.device,
                    "platform": d.platform,
                    "state": d.state,
                    "reason": d.reason,
                    "missing": list(d.missing),
                    "extra": list(d.extra),
                    "backup": d.backup,
                    "backup_stored": d.stored,
                    "source": d.source.as_dict() if d.source else None,
                }
                for d in self.devices
            ],
        }


@dataclass(frozen=True)
class DriftTarget:
    element: Unit | Node
    segments: tuple[str, ...]


def targets(
    ctx: Context, ids: Iterable[str] = (), segment: str | None = None, owned: Iterable[str] | None = None
) -> list[DriftTarget]:
    """What to check: the named units (unknown ones are an error), the units and nodes of
    ``segment`` (only that segment's scope), or everything; ``owned`` keeps a shard's share."""
    wanted = list(ids)
    for ident in wanted:
        if ctx.inventory.element(ident) is None:
            raise GovnetError(f"unknown unit '{ident}'")
    if segment is not None:
        elements = elements_in_scope(ctx, segment, None, wanted)
        found = [DriftTarget(e, (segment,)) for e in elements]
    else:
        chosen: list[Unit | Node] = (
            [e for e in (ctx.inventory.element(i) for i in wanted) if e is not None]
            if wanted
            else [*ctx.inventory.nodes, *ctx.inventory.units]
        )
        found = [DriftTarget(e, tuple(s for s in SEGMENTS if s in e.segments)) for e in chosen]
    keep = set(owned) if owned is not None else None
    seen: set[str] = set()
    out = []
    for target in found:
        if target.segments and target.element.id not in seen and (keep is None or target.element.id in keep):
            seen.add(target.element.id)
            out.append(target)
    return out


STATUS: dict[State, Result] = {"compliant": "ok", "pending": "ok", "drifted": "changed", "unknown": "failed"}
"""A device check as a runner result: drifted counts as changed (outside govnet), unknown as failed."""
CheckJob = tuple[DriftTarget, Device, tuple[str, ...]]


def check(
    ctx: Context,
    chosen: list[DriftTarget],
    *,
    concurrency: int = 10,
    stop: threading.Event | None = None,
    hooks: Sequence[Hooks] = (),
) -> list[UnitReport]:
    """Check every target's devices in a bounded thread pool; one report per target.

    Every template is rendered first, so a broken one fails the whole check (``TemplateError``,
    ``FILE:LINE``) before any device is contacted, as ``rollout plan`` does. ``stop`` set (the
    daemon is stopping) makes the devices not yet started ``unknown``.
    """
    jobs: list[Job[CheckJob]] = [
        Job(t.element.id, d.name, (t, d, tuple(s for s in t.segments if d in t.element.devices_on(s))))
        for t in chosen
        for d in t.element.devices
    ]
    jobs = [j for j in jobs if j.item[2]]
    for job in jobs:
        ctx.render(job.item[0].element, job.item[1])

    def one(job: Job[CheckJob]) -> UnitResult[DeviceCheck]:
        target, device, segments = job.item
        if stop is not None and stop.is_set():
            result = DeviceCheck(
                target.element.id, device.name, device.platform, "unknown", time.time(), "check stopped"
            )
        else:
            result = check_device(ctx, target.element, device, segments)
        return UnitResult(job.unit, job.device, STATUS[result.state], result.reason, value=result)

    def make() -> Work[Job[CheckJob], UnitResult[DeviceCheck]]:
        return one, lambda: None

    runner: Runner[CheckJob, DeviceCheck] = Runner(
        make, concurrency=max(1, min(concurrency, len(jobs) or 1)), hooks=hooks
    )
    by_unit: dict[str, list[DeviceCheck]] = {}
    for done in runner.run(jobs).ordered():
        if done.value is not None:
            by_unit.setdefault(done.unit, []).append(done.value)
    return [UnitReport(t.element.id, t.segments, tuple(by_unit.get(t.element.id, ()))) for t in chosen]


def check_device(
    ctx: Context, element: Unit | Node, device: Device, segments: tuple[str, ...]
) -> DeviceCheck:
    """Read, store if changed, compare per segment scope, attribute; never raises for a device
    that cannot be read (that is ``unknown`` with the reason)."""
    started = time.time()
    try:
        with ctx.session(device) as session:
            running = session.running_config()
    except GovnetError as exc:
        return DeviceCheck(
            element.id,
            device.name,
            device.platform,
            "unknown",
            started,
            f"cannot read the running config: {next(iter(exc.lines()))}",
        )
    drifts, kinds, _, _ = compare(device.platform, running, ctx.render(element, device), segments)
    digest = backups.text_hash(running)
    with connect(ctx.state_dir) as conn:
        with transaction(conn):
            last = backups.latest(conn, device.name)
            stored = last is None or (
                last.hash != digest  # a changed clock-period or stamp alone is no new backup
                and stable_text(device.platform, backups.get_blob(conn, last.hash))
                != stable_text(device.platform, running)
            )
            if stored:
                backups.save(conn, element.id, device.name, running, BACKUP_REASON)
            elif last is not None:
                digest = last.hash  # the backup that holds this config
        verdict = judge(drifts, kinds, applied_segments(conn, element.id, device.name))
        source = attribute(conn, element.id, device, running) if verdict.state == "drifted" else None
    return DeviceCheck(
        element.id,
        device.name,
        device.platform,
        verdict.state,
        time.time(),
        "",
        verdict.segments,
        by_category(verdict.drifted),
        verdict.missing,
        verdict.extra,
        digest,
        stored,
        source,
        by_category(verdict.pending),
    )


@dataclass(frozen=True)
class Verdict:
    """One device's state once parts never applied are told apart from drift."""

    state: State
    segments: tuple[SegmentDrift, ...]
    drifted: dict[str, tuple[int, int]]
    pending: dict[str, tuple[int, int]]
    """(missing, extra) per part kind."""
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    """Drifted lines only: those in the scope of a segment govnet applied."""


def judge(drifts: list[SegmentDrift], kinds: dict[str, tuple[int, int]], applied: set[str]) -> Verdict:
    """Drifted where a segment govnet applied differs; pending where only never-applied ones do.

    A baseline line is in every scope, so it is drift once any segment was applied, and pending
    only while none was."""
    marked = tuple(
        SegmentDrift(d.segment, d.commands, d.missing, d.extra, d.segment in applied) for d in drifts
    )
    drifted_kinds, pending_kinds = split_kinds(kinds, applied_kinds(applied))
    missing = dict.fromkeys(line for d in marked if d.applied for line in d.missing)
    extra = dict.fromkeys(line for d in marked if d.applied for line in d.extra)
    state: State = "compliant"
    if any(d.applied and not d.compliant for d in marked) or any(sum(n) for n in drifted_kinds.values()):
        state = "drifted"
    elif any(d.pending for d in marked):
        state = "pending"
    return Verdict(state, marked, drifted_kinds, pending_kinds, tuple(missing), tuple(extra))


def compare(
    platform: str, running: str, rendered: Rendered, segments: tuple[str, ...]
) -> tuple[list[SegmentDrift], dict[str, tuple[int, int]], tuple[str, ...], tuple[str, ...]]:
    """Per segment scope, what ``rollout plan`` would change; with (missing, extra) per part kind
    and the drifted lines, the baseline (in every scope) counted once."""
    drifts = []
    kinds: dict[str, tuple[int, int]] = {}
    missing: dict[str, None] = {}
    extra: dict[str, None] = {}
    for segment in segments:
        fix = remediate(platform, running, scoped_text(rendered, segment))
        drifts.append(SegmentDrift(segment, fix.commands, fix.missing, fix.extra))
        missing.update(dict.fromkeys(fix.missing))
        extra.update(dict.fromkeys(fix.extra))
        for kind, (m, e) in fix.kinds.items():
            was = kinds.get(kind, (0, 0))
            kinds[kind] = (max(was[0], m), max(was[1], e))
    return drifts, kinds, tuple(missing), tuple(extra)
