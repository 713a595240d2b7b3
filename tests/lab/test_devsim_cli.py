"""``python -m govnet.lab.devsim`` as the lab spawns it: spec file in, ``ready`` out, SIGTERM."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from netmiko import ConnectHandler

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Never-Log-Me-42"


def _spawn(spec: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "govnet.lab.devsim", "--spec", str(spec), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_ready(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=deadline - time.monotonic()):
            return proc.stdout.readline().strip()
    raise AssertionError("devsim did not print ready")


def test_cli_serves_devices_until_sigterm(tmp_path: Path) -> None:
    devices = [
        {
            "name": name,
            "platform": platform,
            "address": "127.0.0.1",
            "port": 0,
            "username": "netops",
            "password": PASSWORD,
            "enable_secret": PASSWORD,
            "state_dir": "state",
        }
        for name, platform in [("core-1", "cisco_ios"), ("agg-1", "huawei_vrp")]
    ]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"devices": devices}))
    ready_file = tmp_path / "ready.json"
    known_hosts = tmp_path / "known_hosts"
    proc = _spawn(spec, "--ready-file", str(ready_file), "--known-hosts", str(known_hosts))
    try:
        assert _wait_ready(proc) == "ready"
        bound = {d["name"]: d for d in json.loads(ready_file.read_text())["devices"]}
        assert set(bound) == {"core-1", "agg-1"}
        assert all(d["port"] > 0 for d in bound.values())
        conn = ConnectHandler(
            device_type="cisco_ios",
            host="127.0.0.1",
            port=bound["core-1"]["port"],
            username="netops",
            password=PASSWORD,
            secret=PASSWORD,
            ssh_strict=True,
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=str(known_hosts),
        )
        conn.enable()
        assert "hostname core-1" in conn.send_command("show running-config")
        conn.disconnect()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "core-1: cisco_ios listening on 127.0.0.1:" in err
    assert "login netops" in err
    assert PASSWORD not in err
    assert (tmp_path / "state" / "core-1.running.cfg").exists()
    assert (tmp_path / "state" / "core-1.ssh_host_key").stat().st_mode & 0o777 == 0o600


def test_cli_refuses_addresses_outside_the_lab_ranges(tmp_path: Path) -> None:
    device = {
        "name": "real-switch",
        "platform": "h3c_comware",
        "address": "192.168.1.1",
        "username": "u",
        "password": PASSWORD,
        "state_dir": str(tmp_path),
    }
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps([device]))
    proc = _spawn(spec)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert out == ""
    assert "192.168.1.1 is outside the lab ranges" in err
    assert "Traceback" not in err


def test_cli_rejects_unknown_spec_keys(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"devices": [{"name": "x", "colour": "red"}]}))
    proc = _spawn(spec)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert "devices[0]: unknown keys: colour" in err
