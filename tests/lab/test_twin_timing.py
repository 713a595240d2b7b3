"""`govnet lab up --timing PROFILE`: every lab device plays a real switch's delays.

A three-unit lab with the ``field`` profile (198.18.128.0/17, apart from the other lab tests'):
its status says so, a login through the lab's own known_hosts takes at least the profile's
login delay, and bringing it up again with another profile is refused. Lower bounds only.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko  # type: ignore[import-untyped]
import pytest

from govnet.lab.devsim.timing import PROFILES
from tests.labkit import govnet, lab_up

NETWORK = "198.18.128.0/17"
PROMPT = re.compile(r"(?:<[\w.-]+>|\[[\w./-]+\]|[\w.-]+(?:\([\w-]+\))?[>#])\s*$")


@pytest.fixture(scope="module")
def field_lab(
    tmp_path_factory: pytest.TempPathFactory, kit: Any
) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    kit.require_lab(("ip", "snmpd"))
    state = tmp_path_factory.mktemp("twin-timing")
    name = "tt" + uuid.uuid4().hex[:5]
    with lab_up(state, name, NETWORK, "--units", "3", "--timing", "field") as info:
        yield name, state, info


def first_prompt_seconds(info: dict[str, Any], unit: dict[str, Any]) -> float:
    """Seconds from the SSH login's start to the device's first prompt (host key checked)."""
    secret = (Path(info["state"]) / "secrets" / "ssh-password").read_text().strip()
    client = paramiko.SSHClient()
    client.load_host_keys(info["known_hosts"])
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    start = time.monotonic()
    try:
        client.connect(unit["host"], 22, "govnet", secret, look_for_keys=False, allow_agent=False, timeout=10)
        chan = client.invoke_shell(width=200, height=24)
        chan.settimeout(10)
        seen = ""
        while not PROMPT.search(seen):
            data = chan.recv(65536)
            if not data:
                raise AssertionError(f"{unit['id']} hung up before its prompt: {seen!r}")
            seen += data.decode()
        return time.monotonic() - start
    finally:
        client.close()


def test_status_names_the_profile_and_devices_take_their_time(
    field_lab: tuple[str, Path, dict[str, Any]],
) -> None:
    name, state, info = field_lab
    status = json.loads(govnet(state, "lab", "status", "--name", name, "--json").stdout)
    assert status["timing"] == "field"
    assert {"inventory", "daemon_config", "units", "faults"} <= set(status)  # the shape holds
    for unit in status["units"]:
        login = PROFILES["field"].delays(unit["platform"]).login
        assert first_prompt_seconds(info, unit) >= login


def test_another_profile_on_a_lab_that_is_up_is_refused(field_lab: tuple[str, Path, dict[str, Any]]) -> None:
    name, state, _ = field_lab
    again = ["lab", "up", "--name", name, "--network", NETWORK, "--units", "3"]
    result = govnet(state, *again, check=False)
    assert result.returncode == 1
    assert f"lab {name} is up with timing field; run govnet lab down first" in result.stderr
    assert govnet(state, *again, "--timing", "field").returncode == 0  # the same: idempotent


def test_an_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    result = govnet(tmp_path, "lab", "up", "--name", "ttx", "--timing", "fast", check=False)
    assert result.returncode == 2
    assert "'fast' is not one of" in result.stderr
