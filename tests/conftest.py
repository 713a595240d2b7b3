"""Shared test helpers: run the CLI in-process and capture what a user would see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from govnet.cli.main import run
from tests.helpers import ROOT


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def govnet(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``govnet ARGS`` in-process from the repository root; returns code, stdout, stderr."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GOVNET_DEBUG", raising=False)

    def call(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call
