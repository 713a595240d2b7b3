"""A real server binary for a test: started on a free loopback port, ready-checked, always stopped.

Prometheus and Alertmanager (and the report tests' backfilled Prometheus) start the same way:
find the Debian package's binary (or skip/fail with the package to install), run it with its
output in a log file, poll ``/-/ready`` (a dead process fails at once, with its log), and
``stop`` terminates it, killing it if it does not exit within 10 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.helpers import need, stop
from tests.monitor.daemonkit import free_port, until


def binary(*names: str, package: str) -> str:
    """The first of ``names`` on PATH, or a skip (a failure in CI) naming the package to install."""
    found = next((path for path in map(shutil.which, names) if path), None)
    need(found is not None, f"{names[0]} is not installed (Debian package {package})")
    assert found is not None
    return found


class Server:
    """``argv`` plus ``--web.listen-address=127.0.0.1:PORT``, its output in ``directory/NAME.log``."""

    def __init__(self, name: str, argv: Sequence[str], directory: Path, *, ready_within: float = 30) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory / f"{name}.log"
        started = time.monotonic()
        self.started = time.time()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*argv, f"--web.listen-address=127.0.0.1:{self.port}"], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            until(self._ready, ready_within, f"{name} ready", self.log)
        except AssertionError:
            self.stop()
            raise
        self.ready_after = time.monotonic() - started

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"exited {self.proc.returncode}:\n{self.log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(self.base + "/-/ready", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def call(self, path: str, data: Any = None, timeout: float = 30) -> Any:
        """GET (or POST ``data`` as JSON) ``path``; the decoded answer, None for an empty body."""
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method="POST" if body else "GET",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{path}: HTTP {exc.code}: {exc.read().decode()[:500]}") from None
        return json.loads(raw) if raw else None

    def stop(self) -> None:
        stop(self.proc, 10)
