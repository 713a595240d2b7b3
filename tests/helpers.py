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


def must_run_everything() -> bool:
    """In CI nothing may be skipped: a missing binary or privilege is a failure there."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, reason: str) -> None:
    """Skip locally with a printed reason; fail in CI."""
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
