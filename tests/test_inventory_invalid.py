"""Every rejected inventory has a fixture and its exact FILE:LINE message; nothing is written."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import DATA, ROOT

INVALID = DATA / "invalid"
EXPECTED: dict[str, list[str]] = yaml.safe_load((INVALID / "expected.yml").read_text(encoding="utf-8"))


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file).encode() + file.read_bytes())
    return digest.hexdigest()


def test_every_fixture_has_an_expectation() -> None:
    fixtures = {p.name for p in INVALID.iterdir() if p.name != "expected.yml"}
    assert fixtures == set(EXPECTED)
    assert len(fixtures) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_inventory_is_rejected_with_exact_lines(name: str, govnet: Any) -> None:
    before = tree_digest(INVALID)
    result = govnet("inventory", "validate", "--inventory", f"tests/data/invalid/{name}")
    assert result.code == 1
    assert result.out == ""
    assert result.err.strip().splitlines() == EXPECTED[name]
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert tree_digest(INVALID) == before


@pytest.mark.parametrize("command", [["list"], ["stats", "--json"], ["show", "sz-fagaiwei"]])
def test_every_read_command_rejects_an_invalid_inventory(command: list[str], govnet: Any) -> None:
    result = govnet("inventory", *command, "--inventory", "tests/data/invalid/duplicate-id.yml")
    assert result.code == 1
    assert result.err.strip().splitlines() == EXPECTED["duplicate-id.yml"]


def test_validate_json_reports_errors_with_places(govnet: Any) -> None:
    result = govnet(
        "inventory", "validate", "--json", "--inventory", "tests/data/invalid/unknown-platform.yml"
    )
    assert result.code == 1
    report = result.json()
    assert report["valid"] is False
    assert report["errors"] == [
        {
            "file": "tests/data/invalid/unknown-platform.yml",
            "line": 78,
            "field": "units[zl-wanjin].devices[0].platform",
            "message": "must be one of: huawei_vrp, h3c_comware, cisco_ios",
        }
    ]


def test_missing_inventory_path(govnet: Any) -> None:
    result = govnet("inventory", "validate", "--inventory", "no/such/place")
    assert result.code == 1
    assert result.err.strip() == "govnet: no/such/place: no such file or folder (set --inventory PATH)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inventory", "list", "--segment", "internet"], "Invalid value for '--segment'"),
        (["inventory", "list", "--shard", "4/3"], "shard '4/3': K must be between 1 and N"),
        (["inventory", "list", "--shard", "x"], "shard 'x': expected K/N"),
        (["inventory", "list", "--group", "juniper"], "unknown group 'juniper'"),
        (["inventory", "list", "--wave", "0"], "Invalid value for '--wave'"),
        (["inventory", "frobnicate"], "No such command 'frobnicate'"),
        (["inventory", "show"], "Missing argument 'UNIT'"),
    ],
)
def test_usage_errors_exit_2_in_one_line(args: list[str], message: str, govnet: Any) -> None:
    result = govnet(*args)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_unknown_unit_suggests_the_closest(govnet: Any) -> None:
    result = govnet("inventory", "show", "sz-gonga")
    assert result.code == 1
    assert result.err.strip() == "govnet: unknown unit 'sz-gonga' (did you mean 'sz-gongan'?)"


def test_console_script_prints_no_traceback() -> None:
    """The installed entry point, as a user runs it, on a broken file."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "govnet",
            "inventory",
            "validate",
            "--inventory",
            "tests/data/invalid/alias-bomb.yml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == EXPECTED["alias-bomb.yml"]
