"""The daemon's scheduled drift check: its own APScheduler job, off the probe hot path.

Device sessions are blocking netmiko, so a check never runs on the event loop: the job hands it
to one worker thread of its own (which loads the inventory, renders and reads the devices in the
check's bounded pool) and awaits the result; probes go on meanwhile. ``max_instances=1`` keeps
one check at a time. Results land in the daemon's `View` (metrics, status page) on the loop.
Stopping the daemon sets a flag that makes the devices not yet started ``unknown`` at once; the
sessions already open finish within their timeouts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from govnet.errors import GovnetError
from govnet.metrics.view import View
from govnet.monitor.config import DaemonConfig

if TYPE_CHECKING:
    from govnet.compliance.check import UnitReport

log = logging.getLogger("govnet.compliance")
JOB_ID = "compliance"


class Host(Protocol):
    """What the job needs of the daemon (read at each run: a reload swaps them)."""

    @property
    def config(self) -> DaemonConfig: ...

    @property
    def owned(self) -> frozenset[str]: ...

    @property
    def view(self) -> View: ...


def run_check(config: DaemonConfig, owned: frozenset[str], stop: threading.Event) -> list[UnitReport]:
    """One check of every unit this daemon (shard) owns; blocking, for a worker thread.

    Imported here: the check pulls in netmiko and hier_config (~1 s, more on a loaded host), which
    a daemon without a ``compliance:`` block never needs, and one with it only after it started."""
    from govnet.compliance.check import check, targets  # noqa: PLC0415
    from govnet.inventory.loader import load  # noqa: PLC0415
    from govnet.rollout.context import Context, default_known_hosts  # noqa: PLC0415

    settings = config.compliance
    assert settings is not None
    inventory = load(config.inventory).inventory
    ctx = Context(
        config.inventory,
        inventory,
        settings.templates,
        config.state,
        config.known_hosts or default_known_hosts(config.inventory),
    )
    return check(ctx, targets(ctx, owned=owned), concurrency=settings.concurrency, stop=stop)


class DriftJob:
    def __init__(self, host: Host, runner: Callable[..., list[UnitReport]] = run_check) -> None:
        self.host = host
        self.runner = runner
        self.stopping = threading.Event()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govnet-drift")

    def schedule(self, scheduler: Any, config: DaemonConfig) -> None:
        """Add the job (after the scheduler's jobs were cleared); nothing when not configured."""
        settings = config.compliance
        if settings is None or not settings.enabled:
            return
        scheduler.add_job(
            self.run,
            "interval",
            seconds=settings.interval,
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=settings.start_delay),
            misfire_grace_time=None,
        )

    async def run(self) -> None:
        """One scheduled check; never raises (a bad template or inventory is logged, kept as an event)."""
        host = self.host
        config, owned, view = host.config, host.owned, host.view
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            reports = await loop.run_in_executor(self.worker, self.runner, config, owned, self.stopping)
        except asyncio.CancelledError:
            if self.stopping.is_set():  # the daemon is stopping: the check ends with it, quietly
                return  # (its thread sees ``stopping`` between devices)
            raise
        except GovnetError as exc:
            why = "; ".join(exc.lines())
            log.error("drift check: %s", why)
            view.event("drift-check-failed", detail=why)
            view.touch()
            return
        except Exception:
            log.exception("drift check failed (a bug)")
            return
        if self.stopping.is_set():
            return
        self.record(view, reports)
        counts: dict[str, int] = {}
        for report in reports:
            counts[report.state] = counts.get(report.state, 0) + 1
        log.info(
            "drift check: %s in %.1f s",
            ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to check",
            time.monotonic() - started,
        )

    @staticmethod
    def record(view: View, reports: list[UnitReport]) -> None:
        """Store the reports; a unit that drifts (or comes back) is an event and a log line; so is
        one pending rollout (a part govnet has never applied: not yet built, not drift)."""
        before = view.compliance.reports
        view.compliance = view.compliance.recorded(reports)
        for report in reports:
            old = before.get(report.unit)
            was = "compliant" if old is None else old.state
            if was != report.state:
                detail = ",".join(report.drifted_categories or report.pending_parts) or report.reason
                view.event("compliance", unit=report.unit, state=report.state, detail=detail)
                log.info("%s: config %s %s", report.unit, report.state, detail)
        view.touch()

    def stop(self) -> None:
        self.stopping.set()
        self.worker.shutdown(wait=False, cancel_futures=True)
