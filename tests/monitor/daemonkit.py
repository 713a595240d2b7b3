"""What the daemon's tests share: a lab twin brought up through the CLI, the daemon as a real
process talking HTTP, metric lookups and a bounded poll.

Nothing here sleeps for a fixed time: `until` polls a condition every 0.1 s up to a bound and
fails with what it last saw (and the daemon's log) when the bound passes.
"""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests import labkit
from tests.helpers import ROOT
from tests.labkit import govnet, lab_up, require_lab
from tests.nobody import Install

__all__ = [
    "DaemonProcess",
    "Lab",
    "Metrics",
    "free_port",
    "govnet",
    "lab_twin",
    "require_lab",
    "until",
    "watching",
]

T = TypeVar("T")
LAB_NETWORK = "198.18.128.0/17"
LAB_UNITS = 8
SPEED = {"icmp": 2, "snmp": 3, "isolation": 3, "health": 3}
"""Lab-speed intervals (seconds) of the daemon under test."""


def until(what: Callable[[], T | None], bound: float, message: str, log: Path | None = None) -> T:
    """Poll ``what`` until it returns something truthy (returned), at most ``bound`` seconds."""
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


@dataclass
class Lab(labkit.Lab):
    """A lab twin that is up, with its twin.json read, and the daemon config to run against it."""

    twin: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.twin = json.loads((self.dir / "twin.json").read_text())

    def units(self, segments: set[str] | None = None) -> list[dict[str, Any]]:
        return [u for u in self.twin["units"] if segments is None or segments <= set(u["segments"])]

    def daemon_config(self, directory: Path, speed: dict[str, int] | None = None, **changes: Any) -> Path:
        """A copy of the lab's daemon.yml: a free port, lab-speed intervals, ``changes`` applied."""
        config = yaml.safe_load(Path(self.info["daemon_config"]).read_text())
        config["listen"] = f"127.0.0.1:{free_port()}"
        config["state"] = str(directory / "daemon-state")
        config["down_after"] = 2
        for probe, seconds in (speed or SPEED).items():
            if probe in config["probes"]:
                config["probes"][probe].update(interval=seconds, timeout=1.0)
        config.update(changes)
        path = directory / "daemon.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        return path


@contextmanager
def lab_twin(
    tmp: Path,
    cls: type[Lab] = Lab,
    *,
    network: str = LAB_NETWORK,
    units: int = LAB_UNITS,
    prefix: str = "m",
) -> Iterator[Lab]:
    """`govnet lab up` of a lab (small by default; a unique name starting with ``prefix``, its
    state in ``tmp``) as a ``cls``; always `lab down`."""
    require_lab()
    name = prefix + uuid.uuid4().hex[:7]
    state = tmp / "lab-state"
    state.mkdir()
    with lab_up(state, name, network, "--units", str(units)) as info:
        yield cls(name, state, info)


@contextmanager
def watching(lab: Lab, work: Path, bound: float, **changes: Any) -> Iterator[DaemonProcess]:
    """The daemon on a copy of the lab's inventory in ``work`` (``changes``: to its config), once it
    has every unit up (within ``bound`` seconds); stopped after, and then it must exit 0."""
    shutil.copy(lab.inventory, work / "inventory.yml")
    config = lab.daemon_config(work, inventory=str(work / "inventory.yml"), **changes)
    proc = DaemonProcess(config, work / "daemon.log").start()
    try:
        proc.until(lambda: all(u["state"] == "up" for u in proc.status()["units"]), bound, "all up")
        yield proc
    finally:
        if proc.alive():
            code, _ = proc.stop()
            assert code == 0


class Metrics(dict[str, list[tuple[dict[str, str], float]]]):
    """Samples by name, parsed with prometheus-client's own parser."""

    @classmethod
    def parse(cls, text: str) -> Metrics:
        out = cls()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
        return out

    def get1(self, name: str, **labels: str) -> float | None:
        """The value of the one sample of ``name`` with ``labels`` (None if absent)."""
        found = self.select(name, **labels)
        assert len(found) <= 1, f"{name}{labels}: {len(found)} samples"
        return found[0][1] if found else None

    def select(self, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
        return [(ls, v) for ls, v in self.get(name, []) if all(ls.get(k) == w for k, w in labels.items())]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class DaemonProcess:
    """``govnet daemon --config FILE`` as a child process, stopped with SIGTERM."""

    def __init__(
        self,
        config: Path,
        log: Path,
        *args: str,
        launcher: tuple[str, ...] = ("govnet", "daemon"),
        runner: tuple[str, ...] = (),
        ready_within: float = 90,
        install: Install | None = None,
    ) -> None:
        """``args`` follow ``--config FILE``; ``launcher``: the module (and arguments) ``python -m``
        runs before it; ``runner``: a command that runs python (``setpriv …``); ``ready_within``:
        seconds it has to serve HTTP; ``install``: the interpreter and checkout to run (the test
        session's own unless the runner's user needs another, tests/nobody.py)."""
        self.config, self.log, self.args, self.launcher = config, log, args, launcher
        self.runner, self.ready_within = runner, ready_within
        self.install = install or Install(sys.executable, ROOT)
        listen = yaml.safe_load(config.read_text())["listen"]
        self.base = f"http://{listen}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    *self.runner,
                    self.install.python,
                    "-m",
                    *self.launcher,
                    "--config",
                    str(self.config),
                    *self.args,
                ],
                cwd=self.install.root,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            until(
                lambda: self.alive() and self.request("/healthz").status,
                self.ready_within,
                "daemon serves HTTP",
                self.log,
            )
        except AssertionError:
            if self.alive():  # never leave a daemon behind a failed start
                self.proc.kill()
                self.proc.wait()
            raise
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Response:
        req = urllib.request.Request(self.base + path, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                return Response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, dict(exc.headers), exc.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return Response(0, {}, b"")

    def metrics(self) -> Metrics:
        answer = self.request("/metrics", headers={"Accept-Encoding": "gzip"})
        assert answer.status == 200, answer
        body = (
            gzip.decompress(answer.body) if answer.headers.get("Content-Encoding") == "gzip" else answer.body
        )
        return Metrics.parse(body.decode())

    def status(self) -> dict[str, Any]:
        answer = self.request("/api/status")
        assert answer.status == 200, answer
        return dict(json.loads(answer.body))

    def states(self, element: str) -> dict[str, str]:
        """``{segment: state}`` of a unit or node, from /api/status."""
        return {u["segment"]: u["state"] for u in self.status()["units"] if u["unit"] == element}

    def until(self, what: Callable[[], T | None], bound: float, message: str) -> T:
        return until(what, bound, message, self.log)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds to exit). Killed (and failed) after 5 s."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"daemon ignored SIGTERM for 5 s\n{self.log_text()[-2000:]}") from None
        return code, time.monotonic() - started
