"""Helpers tests import: paths, and the CI rule that nothing may be skipped there."""

from __future__ import annotations

import os
from pathlib import Path

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
