"""What the Alertmanager tests share: a webhook receiver on loopback that timestamps every
notification, and a real ``alertmanager`` process (Debian package) with its v2 API.

Both bind 127.0.0.1 only; Alertmanager runs without its gossip port (``--cluster.listen-address=``)
and with a fresh ``--storage.path``. ``stop`` always ends what ``start`` began.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.exporters.labkit import free_port, until
from tests.helpers import need


@dataclass
class Notification:
    at: float
    """time.monotonic() when it arrived."""
    body: dict[str, Any]

    @property
    def units(self) -> list[str]:
        return sorted(a["labels"].get("unit", "") for a in self.body["alerts"])

    @property
    def alertnames(self) -> set[str]:
        return {a["labels"]["alertname"] for a in self.body["alerts"]}

    def has(self, alertname: str, unit: str | None = None, status: str = "firing") -> bool:
        return any(
            a["labels"]["alertname"] == alertname
            and (unit is None or a["labels"].get("unit") == unit)
            and a["status"] == status
            for a in self.body["alerts"]
        )


@dataclass
class Webhook:
    """An HTTP receiver that keeps every notification with its arrival time."""

    server: ThreadingHTTPServer
    received: list[Notification] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/govnet"

    def since(self, start: float) -> list[Notification]:
        return [n for n in list(self.received) if n.at >= start]

    def first(
        self, start: float, alertname: str, unit: str | None = None, status: str = "firing"
    ) -> Notification | None:
        return next((n for n in self.since(start) if n.has(alertname, unit, status)), None)


@contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    received: list[Notification] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append(Notification(time.monotonic(), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Webhook(server, received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Alertmanager:
    """``alertmanager --config.file=CONFIG`` on a free loopback port."""

    def __init__(self, config: Path, directory: Path) -> None:
        binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        need(binary is not None, "alertmanager is not installed (Debian package prometheus-alertmanager)")
        assert binary is not None
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory / "alertmanager.log"
        started = time.monotonic()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.path={directory / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--cluster.listen-address=",
                    "--log.level=debug",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            until(lambda: self.proc.poll() is None and self._ready(), 15, "alertmanager ready", self.log)
        except AssertionError:
            self.stop()
            raise
        self.ready_after = time.monotonic() - started

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/-/ready", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def call(self, path: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method="POST" if body else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def post(self, *alerts: dict[str, Any]) -> float:
        self.call("/api/v2/alerts", list(alerts))
        return time.monotonic()

    def alerts(self, query: str = "") -> list[dict[str, Any]]:
        return list(self.call("/api/v2/alerts" + query))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
