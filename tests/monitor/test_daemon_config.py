"""Every rejected daemon config has a fixture and its exact ``FILE:LINE: field: message`` lines.

``govnet daemon --check --config F`` must exit 1 with exactly the expected lines on stderr,
nothing on stdout and no traceback; a valid config passes and names what it will not probe.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import DATA, ROOT

INVALID = DATA / "invalid-daemon"
EXPECTED: dict[str, list[str]] = yaml.safe_load((INVALID / "expected.yml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The minimal inventory's SNMP community is an env: reference."""
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")
    monkeypatch.delenv("GOVNET_TEST_NO_SUCH_COMMUNITY", raising=False)


def test_every_fixture_has_an_expectation() -> None:
    fixtures = {p.name for p in INVALID.iterdir() if p.name != "expected.yml"}
    assert fixtures == set(EXPECTED)
    assert len(fixtures) >= 12


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_config_is_refused_with_exact_lines(name: str, govnet: Any) -> None:
    result = govnet("daemon", "--check", "--config", f"tests/data/invalid-daemon/{name}")
    assert result.code == 1, result.out
    assert result.out == ""
    assert result.err.strip().splitlines() == EXPECTED[name]
    assert "Traceback" not in result.err and "internal error" not in result.err


def valid(tmp_path: Path, networks: list[str]) -> Path:
    path = tmp_path / "daemon.yml"
    inventory = (DATA / "valid" / "minimal.yml").resolve()
    path.write_text(yaml.safe_dump({"inventory": str(inventory), "allowed_networks": networks}))
    return path


def test_a_valid_config_passes(govnet: Any, tmp_path: Path) -> None:
    result = govnet("daemon", "--check", "--config", str(valid(tmp_path, ["10.0.0.0/8", "172.16.0.0/12"])))
    assert result.code == 0, result.err
    assert result.err == ""
    assert "valid: 3 units, jobs icmp/intranet" in result.out


def test_targets_outside_allowed_networks_are_named_before_anything_is_sent(
    govnet: Any, tmp_path: Path
) -> None:
    result = govnet("daemon", "--check", "--config", str(valid(tmp_path, ["172.16.0.0/12"])))
    assert result.code == 0, result.err
    lines = result.err.strip().splitlines()
    assert (
        "warning: icmp/party: 4 target(s) outside allowed_networks will not be probed: "
        "core-city/party 10.112.250.1, sz-fagaiwei/party 10.112.1.1, sz-caizheng/party 10.112.2.1, "
        "zl-wanjin/party 10.112.3.1"
    ) in lines
    assert not any("icmp/extranet" in line for line in lines)


def test_a_missing_secret_names_its_device(
    govnet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVNET_SNMP_COMMUNITY")
    result = govnet("daemon", "--check", "--config", str(valid(tmp_path, ["10.0.0.0/8"])))
    assert result.code == 1
    assert result.err.strip().endswith(
        "minimal.yml: core-city: device CORE-01: snmp: secret env:GOVNET_SNMP_COMMUNITY is not set"
    )


def daemon(config: str) -> subprocess.CompletedProcess[str]:
    """``govnet daemon`` itself (it execs ``python -m govnet.monitor``), not ``--check``."""
    env = dict(os.environ, GOVNET_SNMP_COMMUNITY="test-community")
    argv = [sys.executable, "-m", "govnet", "daemon", "--config", config]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_daemon_refuses_an_invalid_config_as_check_does() -> None:
    result = daemon("tests/data/invalid-daemon/unknown-key.yml")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == EXPECTED["unknown-key.yml"]


def test_a_busy_listen_port_is_named_at_its_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = valid(tmp_path, ["10.0.0.0/8"])
        text = (
            path.read_text()
            + f"listen: 127.0.0.1:{port}\nprobes: {{icmp: {{enabled: false}}, tcp: {{enabled: false}}, snmp: {{enabled: false}}}}\n"
        )
        path.write_text(text)
        result = daemon(str(path))
    line = text.splitlines().index(f"listen: 127.0.0.1:{port}") + 1
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"{path}:{line}: listen: cannot listen on 127.0.0.1:{port}:")
    )
    assert "Traceback" not in result.stderr
