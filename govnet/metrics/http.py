"""A small asyncio HTTP server: ``/metrics``, ``/healthz``, ``/api/status`` and the status page.

It runs on the daemon's event loop, so it reads the view between probe updates, never during
one. The exposition is rendered once per view version and kept (plain and gzipped), so a scrape
costs a dictionary lookup, not a render — at 10,000 units that is the difference that matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from govnet.metrics.collector import ViewCollector
from govnet.metrics.page import render_page, status_json
from govnet.metrics.view import View

log = logging.getLogger(__name__)
MAX_REQUEST = 8192


class Exporter:
    """Owns the registry and the cached exposition of one view."""

    def __init__(self, view: View, healthy: Callable[[], tuple[bool, str]]) -> None:
        self.view = view
        self.healthy = healthy
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ViewCollector(view))
        self._cached_version = -1
        self._plain = b""
        self._gzipped = b""
        self.renders = 0

    def exposition(self, want_gzip: bool) -> bytes:
        if self._cached_version != self.view.version:
            self._plain = generate_latest(self.registry)
            self._gzipped = gzip.compress(self._plain, compresslevel=5)
            self._cached_version = self.view.version
            self.renders += 1
        return self._gzipped if want_gzip else self._plain

    async def serve(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._handle, host, port, reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        try:
            status, headers, body = self._route(head[:MAX_REQUEST].decode("latin-1"))
        except Exception:  # a bug must not kill the exporter: answer 500 and log it
            log.exception("HTTP handler failed")
            status, headers, body = 500, {"Content-Type": "text/plain"}, b"internal error\n"
        reason = {
            200: "OK",
            404: "Not Found",
            405: "Method Not Allowed",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }
        lines = [
            f"HTTP/1.1 {status} {reason.get(status, 'OK')}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        with contextlib.suppress(ConnectionError):
            writer.write(
                ("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if head.startswith(b"HEAD") else body)
            )
            await writer.drain()
        writer.close()

    def _route(self, head: str) -> tuple[int, dict[str, str], bytes]:
        request, *header_lines = head.split("\r\n")
        parts = request.split(" ")
        if len(parts) != 3:
            return 405, {}, b""
        method, target, _ = parts
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        if method not in ("GET", "HEAD"):
            return 405, {"Allow": "GET, HEAD"}, b"method not allowed\n"
        path = target.split("?", 1)[0]
        if path == "/metrics":
            want_gzip = "gzip" in headers.get("accept-encoding", "")
            extra = {"Content-Encoding": "gzip"} if want_gzip else {}
            return 200, {"Content-Type": CONTENT_TYPE_LATEST, **extra}, self.exposition(want_gzip)
        if path == "/healthz":
            ok, why = self.healthy()
            body = json.dumps({"status": "ok" if ok else "unhealthy", "detail": why, "time": time.time()})
            return (200 if ok else 503), {"Content-Type": "application/json"}, body.encode() + b"\n"
        if path == "/api/status":
            return 200, {"Content-Type": "application/json; charset=utf-8"}, _json(status_json(self.view))
        if path in ("/", "/index.html"):
            return 200, {"Content-Type": "text/html; charset=utf-8"}, render_page(self.view).encode()
        return 404, {"Content-Type": "text/plain"}, b"not found\n"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode()
