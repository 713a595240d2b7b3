"""Helpers tests (and bench scripts) import: paths, the CI rule that nothing may be skipped there,
and stopping a child process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


# The node id of the running test when it is in the unit tier (set by tests/conftest.py).
running_unit_test: str | None = None


def must_run_everything() -> bool:
    """In CI (``CI`` set to any non-empty value) nothing may be skipped: a missing binary or
    privilege is a failure there, whatever spelling the CI system uses (true, 1, yes)."""
    return bool(os.environ.get("CI"))


def need(condition: bool, reason: str) -> None:
    """A lab test's prerequisite: skip locally with a printed reason; fail in CI.

    A unit test may need nothing: calling this from one fails, whether the condition holds or not
    (mark the test ``lab``; see tests/conftest.py)."""
    if running_unit_test is not None:
        pytest.fail(f"{running_unit_test} is in the unit tier but needs: {reason} (mark it lab)")
    if condition:
        return
    if must_run_everything():
        pytest.fail(f"CI must run this test, but: {reason}")
    print(f"SKIP: {reason}")
    pytest.skip(reason)


def stop(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """SIGTERM a child that still runs; SIGKILL it if it has not exited within ``grace`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
