"""Rollout runs as the daemon exports them: read from a real state store, one series set per
segment and kind, absent store = no series, a running run marked running."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from govnet.metrics.collector import ViewCollector
from govnet.monitor.rollouts import read_rollouts
from govnet.rollout import runs
from govnet.state.db import connect
from tests.monitor.test_daemon_units import view


def _record(state: Path, kind: str, segment: str, results: list[str | None]) -> str:
    with connect(state) as conn:
        run_id = runs.create(
            conn,
            kind,
            None,
            None,
            {"segment": segment},
            {},
            [(f"u{i}", f"d{i}", 1, []) for i in range(len(results))],
        )
        for i, result in enumerate(results):
            if result is not None:
                runs.set_phase(conn, run_id, f"u{i}", f"d{i}", "done", result=result)
    return run_id


def samples(state: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    v = view()
    v.rollouts = read_rollouts(state)

    class One(Collector):
        def collect(self):  # type: ignore[no-untyped-def]
            return ViewCollector(v.snapshot())._rollouts()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(One())
    out = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_no_store_no_series(tmp_path: Path) -> None:
    assert read_rollouts(tmp_path / "nothing-here") == ()
    assert samples(tmp_path / "nothing-here") == {}


def test_the_newest_run_per_segment_and_kind(tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = _record(state, "apply", "party", ["changed"])
    with connect(state) as conn:
        runs.finish(conn, old, "done")
    new = _record(state, "apply", "party", ["changed", "failed", None])
    with connect(state) as conn:
        conn.execute("UPDATE runs SET created = created + 1 WHERE id = ?", (new,))  # strictly newer
    back = _record(state, "rollback", "party", ["ok"])
    with connect(state) as conn:
        conn.execute("UPDATE runs SET created = created + 2 WHERE id = ?", (back,))
        runs.finish(conn, back, "done")
    got = samples(state)
    start = {k: v for k, v in got.items() if k[0] == "govnet_rollout_last_start_timestamp_seconds"}
    assert {dict(k[1])["run"] for k in start} == {new, back}  # the older apply is not exported
    ends = {dict(k[1])["kind"] for k in got if k[0] == "govnet_rollout_last_end_timestamp_seconds"}
    assert ends == {"rollback"}  # the newest apply has not ended
    units = {
        (dict(k[1])["kind"], dict(k[1])["result"]): v
        for k, v in got.items()
        if k[0] == "govnet_rollout_units"
    }
    assert units == {
        ("apply", "changed"): 1,
        ("apply", "failed"): 1,
        ("apply", "pending"): 1,
        ("rollback", "ok"): 1,
    }
    running = {dict(k[1])["kind"]: v for k, v in got.items() if k[0] == "govnet_rollout_running"}
    assert running == {"apply": 1.0, "rollback": 0.0}  # this process, which "runs" it, is alive
    with sqlite3.connect(state / "govnet.db") as conn:
        conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (_dead_pid(), new))
    assert {dict(k[1])["kind"]: v for k, v in samples(state).items() if k[0] == "govnet_rollout_running"} == {
        "apply": 0.0,
        "rollback": 0.0,
    }


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid
