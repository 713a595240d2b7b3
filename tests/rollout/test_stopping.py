"""The graceful stop of a rollout and the record of units needing attention (no lab needed)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.rollout import runs
from govnet.rollout.apply import Options
from govnet.rollout.runs import Phase, Result, UnitRecord
from govnet.rollout.stopping import StopRequest, on_signals
from govnet.state.db import connect


def test_the_first_sigterm_asks_to_stop_and_the_old_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with on_signals(StopRequest()) as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.reason == "SIGTERM"
        assert signal.getsignal(signal.SIGTERM) == before  # a second one acts as it always did
    assert signal.getsignal(signal.SIGTERM) == before


def test_the_first_reason_is_kept() -> None:
    stop = StopRequest()
    stop.request("SIGINT")
    stop.request("error")
    assert stop.reason == "SIGINT"


def test_max_failures_counts_and_shares() -> None:
    assert Options(max_failures="3").threshold(50) == 3
    assert Options(max_failures="25%").threshold(4) == 1
    assert Options(max_failures="10%").threshold(5) == 0


def record(phase: Phase, result: Result | None, before: str | None) -> UnitRecord:
    return UnitRecord("r", "u", "d", 0, 1, phase, result, "", [], before, None, 0.0)


def test_units_needing_attention() -> None:
    assert record("done", "failed", "abc").needs_attention  # restore failed after a push
    assert not record("done", "failed", None).needs_attention  # failed before any backup
    assert not record("done", "restored", "abc").needs_attention
    assert record("pushing", None, "abc").needs_attention  # caught mid-change
    assert not record("backed_up", None, "abc").needs_attention  # nothing pushed yet
    assert not record("pending", None, None).needs_attention


def test_status_lists_the_units_needing_attention_and_the_next_step(tmp_path: Path) -> None:
    with connect(tmp_path) as conn:
        run = runs.create(conn, "apply", "p.json", "h", {}, {}, [("u1", "d1", 0, []), ("u2", "d2", 1, [])])
        runs.set_phase(
            conn, run, "u1", "d1", "done", result="failed", reason="…RESTORE FAILED…", before_hash="ab"
        )
        runs.set_phase(conn, run, "u2", "d2", "done", result="changed", before_hash="cd", after_hash="ef")
        runs.finish(conn, run, "done")
    text = CliRunner().invoke(cli, ["rollout", "status", run, "--state", str(tmp_path)])
    assert text.exit_code == 0, text.output
    assert "1 unit(s) need attention" in text.output and f"govnet rollout rollback {run}" in text.output
    data = json.loads(
        CliRunner().invoke(cli, ["rollout", "status", run, "--state", str(tmp_path), "--json"]).output
    )
    assert [(u["id"], u["attention"], u["backup"]) for u in data["units"]] == [
        ("u1", True, "ab"),
        ("u2", False, "cd"),
    ]
