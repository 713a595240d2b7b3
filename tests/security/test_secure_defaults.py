"""Secure defaults not covered elsewhere: the audit chain through `govnet audit verify`
(edit, delete, reorder, truncated last entry), private plan files and state, localhost binding."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from govnet.monitor.config import DaemonConfig
from govnet.rollout import planfile
from govnet.state import audit
from govnet.state.db import connect, db_path
from tests.helpers import DATA


def fill(state: Path, count: int = 5) -> None:
    with connect(state) as conn:
        for i in range(count):
            audit.append(conn, state, "push", {"commands": [f"line {i}"]}, run_id="r1", unit=f"u{i}")


def test_intact_chain_passes_the_cli(tmp_path: Path, govnet: Any) -> None:
    fill(tmp_path)
    result = govnet("audit", "verify", "--state", str(tmp_path))
    assert result.code == 0 and "intact (5 entries)" in result.out


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE audit SET detail='{}' WHERE seq=3", "entry 3: content does not match its hash (edited)"),
        ("DELETE FROM audit WHERE seq=2", "entries 2..2 are missing (deleted)"),
        (
            "UPDATE audit SET seq=-2 WHERE seq=2; UPDATE audit SET seq=2 WHERE seq=3;"
            " UPDATE audit SET seq=3 WHERE seq=-2",
            "entry 2: content does not match its hash (edited)",
        ),
        ("DELETE FROM audit WHERE seq=5", "entries at the end were deleted or added outside govnet"),
    ],
    ids=["edit", "delete", "reorder", "truncate-last"],
)
def test_tampering_fails_audit_verify(tmp_path: Path, govnet: Any, tamper: str, problem: str) -> None:
    fill(tmp_path)
    with connect(tmp_path) as conn:
        conn.executescript(tamper)
    result = govnet("audit", "verify", "--state", str(tmp_path))
    assert result.code == 1
    assert "Traceback" not in result.err
    assert any(problem in line for line in result.err.splitlines()), result.err
    assert all(
        line.startswith(f"govnet: {tmp_path}: audit trail broken: ") for line in result.err.splitlines()
    )


def test_state_dir_and_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    fill(state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for path in [db_path(state), state / audit.HEAD_FILE, *state.glob("govnet.db-*")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_plan_files_are_written_0600_even_with_a_loose_umask(tmp_path: Path) -> None:
    plan, _ = planfile.read(DATA / "badinput" / "plans" / "fresh-needs-yes.json")
    old = os.umask(0)
    try:
        planfile.write(plan, tmp_path / "plan.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "plan.json").stat().st_mode) == 0o600
    again, _ = planfile.read(tmp_path / "plan.json")
    assert again == plan


def test_status_page_and_metrics_bind_to_localhost_by_default() -> None:
    config = DaemonConfig.model_validate({"inventory": "x.yml", "allowed_networks": ["198.18.0.0/15"]})
    assert config.listen_address()[0] == "127.0.0.1"
