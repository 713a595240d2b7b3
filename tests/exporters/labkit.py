"""The lab twin and the daemon as the exporter tests use them: through the CLI, as a user would.

`govnet lab up` under a unique name with its state in a temporary folder (always `lab down`),
`govnet daemon` as a child process on a free loopback port at lab speed, and bounded polls
(``until``) instead of sleeps. Root and the lab's binaries are required: skipped with the reason
locally, a failure in CI (tests.helpers.need).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.helpers import ROOT, need

T = TypeVar("T")
LAB_BINARIES = ("ip", "ping", "snmpd", "iptables-legacy")
SPEED = {"icmp": 2, "snmp": 3, "tcp": 3, "isolation": 3}
"""Lab-speed intervals (seconds) of the daemon under test."""


def until(what: Callable[[], T | None], bound: float, message: str, log: Path | None = None) -> T:
    """Poll ``what`` every 0.1 s until it returns something truthy (returned), at most ``bound`` s."""
    deadline = time.monotonic() + bound
    last: T | None = None
    while time.monotonic() < deadline:
        last = what()
        if last:
            return last
        time.sleep(0.1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log and log.exists() else ""
    raise AssertionError(f"{message} (not within {bound:.0f} s; last: {last!r})\n{tail}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def govnet(
    state: Path, *args: str, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, with the lab's state under ``state``."""
    env = dict(os.environ, GOVNET_LAB_STATE=str(state))
    result = subprocess.run(
        [sys.executable, "-m", "govnet", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"govnet {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def require_lab() -> None:
    need(os.geteuid() == 0, "needs root (network namespaces, raw ICMP sockets)")
    missing = [b for b in LAB_BINARIES if shutil.which(b) is None]
    need(not missing, f"missing binaries: {', '.join(missing)}")


@dataclass
class Lab:
    """A lab twin that is up; ``info`` is ``govnet lab status --json``."""

    name: str
    state: Path
    info: dict[str, Any]
    twin: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.twin = json.loads((Path(self.info["state"]) / "twin.json").read_text())

    @classmethod
    def up(cls, name: str, state: Path, network: str) -> Lab:
        govnet(state, "lab", "up", "--name", name, "--network", network)
        return cls(name, state, json.loads(govnet(state, "lab", "status", "--name", name, "--json").stdout))

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return govnet(self.state, "lab", *args, "--name", self.name, check=check)

    def heal_all(self) -> None:
        for fault in json.loads(self.cli("status", "--json").stdout)["faults"]:
            self.cli("heal", fault["unit"])

    def units(self, segments: set[str] | None = None) -> list[dict[str, Any]]:
        return [u for u in self.twin["units"] if segments is None or segments <= set(u["segments"])]

    @property
    def inventory(self) -> Path:
        return Path(self.info["inventory"])

    def daemon_config(self, directory: Path) -> Path:
        """A copy of the lab's daemon.yml: a free port, lab-speed intervals."""
        config = yaml.safe_load(Path(self.info["daemon_config"]).read_text())
        config["listen"] = f"127.0.0.1:{free_port()}"
        config["state"] = str(directory / "daemon-state")
        config["down_after"] = 2
        for probe, seconds in SPEED.items():
            if probe in config.get("probes", {}):
                config["probes"][probe].update(interval=seconds, timeout=1.0)
        path = directory / "daemon.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        return path


class DaemonProcess:
    """``govnet daemon --config FILE`` as a child process; ``stop`` ends it for sure."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.listen = str(yaml.safe_load(config.read_text())["listen"])
        self.base = f"http://{self.listen}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "govnet", "daemon", "--config", str(self.config)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        until(lambda: self.alive() and self._get("/healthz") is not None, 30, "daemon serves HTTP", self.log)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as answer:
                return bytes(answer.read())
        except urllib.error.HTTPError as exc:
            return bytes(exc.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def status(self) -> dict[str, Any]:
        body = self._get("/api/status")
        assert body is not None, "no /api/status"
        return dict(json.loads(body))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
