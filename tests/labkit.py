"""The lab twin as tests (and bench/soak.py) drive it: the CLI run as a user runs it, a lab brought
up under a unique name with its state in a folder of the caller's and always taken down, and what
every test reads from a lab that is up.

The daemon tests add the daemon's side in tests/monitor/daemonkit.py; a module that needs more of
a lab (SSH, SNMP, a topology) subclasses ``Lab``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from tests.helpers import ROOT, need

LAB_BINARIES = ("ip", "ping", "snmpd", "iptables-legacy")


def govnet(
    state: Path,
    *args: str,
    check: bool = True,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, with the lab's state under ``state`` (``env``: more variables).

    With ``check``, an exit other than 0 fails (AssertionError) with what the command printed."""
    result = subprocess.run(
        [sys.executable, "-m", "govnet", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {}), "GOVNET_LAB_STATE": str(state)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"govnet {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def require_lab(binaries: Sequence[str] = LAB_BINARIES) -> None:
    """Root (network namespaces, raw sockets) and ``binaries``: else skip, or fail in CI."""
    need(os.geteuid() == 0, "needs root (network namespaces, raw ICMP sockets)")
    missing = [b for b in binaries if shutil.which(b) is None]
    need(not missing, f"missing binaries: {', '.join(missing)}")


@contextmanager
def lab_up(state: Path, name: str, network: str, *args: str) -> Iterator[dict[str, Any]]:
    """`govnet lab up` (``args``: more of its options, e.g. ``--units 6``) yielding its
    ``--json`` (what `lab status --json` prints); `lab down` whatever happens."""
    try:
        up = govnet(state, "lab", "up", "--name", name, "--network", network, *args, "--json")
        yield json.loads(up.stdout)
    finally:
        govnet(state, "lab", "down", "--name", name, check=False)


@dataclass
class Lab:
    """A lab that is up: its name, the state folder it was brought up with, and ``info``, its
    `govnet lab status --json`."""

    name: str
    state: Path
    info: dict[str, Any]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``govnet lab ARGS --name NAME``."""
        return govnet(self.state, "lab", *args, "--name", self.name, check=check)

    def heal_all(self) -> None:
        for fault in json.loads(self.cli("status", "--json").stdout)["faults"]:
            self.cli("heal", fault["unit"])

    def netns(self, node: str) -> str:
        return f"gvl-{self.name}-{node}"

    @property
    def dir(self) -> Path:
        """The lab's own folder (twin.json, secrets/, known_hosts, …)."""
        return Path(self.info["state"])

    @property
    def inventory(self) -> Path:
        return Path(self.info["inventory"])


class OperatorLab:
    """A lab as an engineer's shell sees it: ``GOVNET_LAB`` names it and ``GOVNET_STATE`` points at
    a state store (``root/state``; the lab's own state is ``root/lab``), and once it is up
    ``GOVNET_INVENTORY`` at its inventory, so commands need neither ``--name`` nor ``--inventory``."""

    def __init__(self, name: str, root: Path) -> None:
        self.name, self.root = name, root
        self.state = root / "state"
        self.info: dict[str, Any] = {}

    @property
    def env(self) -> dict[str, str]:
        """The variables the commands get (besides ``GOVNET_LAB_STATE`` and the caller's own)."""
        env = {"GOVNET_LAB": self.name, "GOVNET_STATE": str(self.state)}
        if "inventory" in self.info:
            env["GOVNET_INVENTORY"] = self.info["inventory"]
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return govnet(self.root / "lab", *args, check=check, timeout=timeout, env=self.env)

    def json(self, *args: str, check: bool = True) -> Any:
        return json.loads(self.run(*args, "--json", check=check).stdout)

    @contextmanager
    def up(self, *args: str) -> Iterator[Self]:
        """`govnet lab up ARGS` (``info``: its ``--json``); `lab down` whatever happens."""
        try:
            self.info = self.json("lab", "up", *args)
            yield self
        finally:
            govnet(self.root / "lab", "lab", "down", check=False, env=self.env)
