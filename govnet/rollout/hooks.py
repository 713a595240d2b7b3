"""Listeners of a rollout run (``govnet.rollout.runner.Hooks``) that every kind of run shares:
Alertmanager silences over each wave, and the run's end in the store and the audit trail.

They were written into each operation's loop (apply's canary and main waves, rollback's single
wave, the run-end record); as hooks, a new operation gets them by listing them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from govnet.export.silences import Silencer
from govnet.inventory.models import Inventory
from govnet.rollout import runs
from govnet.rollout.runner import Hooks, Job, Summary, UnitResult
from govnet.state import audit
from govnet.state.db import connect


class Silences(Hooks):
    """One Alertmanager silence per wave over its units and the units behind them (on the run's
    segment), expired when the wave ends; nothing without a silencer."""

    def __init__(
        self,
        silencer: Silencer | None,
        inventory: Inventory,
        run_id: str,
        segment: str,
        names: dict[str, str] | None = None,
        wanted: Callable[[Job[Any]], bool] = lambda job: True,
    ) -> None:
        """``names``: what each wave is called in the silence's comment (default ``canary wave``,
        ``main wave``); ``wanted``: the jobs whose unit the silence covers."""
        self.silencer, self.inventory, self.run_id, self.segment = silencer, inventory, run_id, segment
        self.names = names or {}
        self.wanted = wanted
        self._open: dict[str, contextlib.ExitStack] = {}

    def units(self, jobs: Sequence[Job[Any]]) -> list[str]:
        ids = {job.unit for job in jobs if self.wanted(job)}
        ids |= {u.id for u in self.inventory.units if u.parent in ids and self.segment in u.segments}
        return sorted(ids)

    def wave_started(self, wave: str, jobs: Sequence[Job[Any]]) -> None:
        ids = self.units(jobs)
        if self.silencer is None or not ids:
            return
        self.silencer.run_id = self.run_id
        stack = contextlib.ExitStack()
        stack.enter_context(self.silencer.wave(ids, self.names.get(wave, f"{wave} wave")))
        self._open[wave] = stack

    def wave_finished(self, wave: str) -> None:
        stack = self._open.pop(wave, None)
        if stack is not None:
            stack.close()


class RunEnd(Hooks):
    """The run's end: its status in the store (``done``, ``stopped`` past the failure threshold,
    ``interrupted`` by a signal) and one audit entry with the counts."""

    def __init__(self, state_dir: Path, run_id: str, action: str = "run-end", **detail: Any) -> None:
        self.state_dir, self.run_id, self.action, self.detail = state_dir, run_id, action, detail

    def run_finished(self, results: Sequence[UnitResult[Any]], summary: Summary) -> None:
        status = "stopped" if summary.stopped else "interrupted" if summary.interrupted else "done"
        detail: dict[str, Any] = dict(self.detail)
        if self.action == "run-end":
            detail |= {"stopped": summary.stopped, "results": summary.counts}
            if summary.interrupted:
                detail["interrupted"] = summary.interrupted
        with connect(self.state_dir) as conn:
            runs.finish(conn, self.run_id, status)
            audit.append(conn, self.state_dir, self.action, detail, run_id=self.run_id)
