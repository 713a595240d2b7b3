"""What the Alertmanager tests share: a webhook receiver on loopback that timestamps every
notification, and a real ``alertmanager`` process (Debian package) with its v2 API.

Both bind 127.0.0.1 only; Alertmanager runs without its gossip port (``--cluster.listen-address=``)
and with a fresh ``--storage.path``. ``stop`` always ends what ``start`` began.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.binkit import Server, binary


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


class Alertmanager(Server):
    """``alertmanager --config.file=CONFIG`` on a free loopback port, without its gossip port."""

    def __init__(self, config: Path, directory: Path) -> None:
        argv = [
            binary("prometheus-alertmanager", "alertmanager", package="prometheus-alertmanager"),
            f"--config.file={config}",
            f"--storage.path={directory / 'am-data'}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ]
        super().__init__("alertmanager", argv, directory, ready_within=15)

    def post(self, *alerts: dict[str, Any]) -> float:
        self.call("/api/v2/alerts", list(alerts))
        return time.monotonic()

    def alerts(self, query: str = "") -> list[dict[str, Any]]:
        return list(self.call("/api/v2/alerts" + query))
