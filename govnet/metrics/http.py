"""A small asyncio HTTP server: ``/metrics``, ``/healthz``, ``/api/status`` and the status page.

It runs on the daemon's event loop. The exposition is *rendered once per change of the view*,
never per scrape: after a cycle a forked child renders the view as it was at the fork and
gzips it (`govnet.osutil.forked`: the render's CPU runs on the other core, its garbage never
enters the daemon's heap); the daemon keeps only the gzipped bytes. Renders are spaced by at
least ``min_gap`` and by four times the last render's duration (at most a fifth of a core), so
a scrape costs a dictionary lookup and may lag the newest cycle by at most one render; a plain
(non-gzip) scrape costs a decompression.

With a web configuration (`govnet.metrics.webconfig`: ``--web.config.file``) it speaks TLS and
asks every request, ``/healthz`` included as with every exporter-toolkit exporter, for a basic-auth
user (`govnet.metrics.webauth`); a request without one is answered 401 before it is routed. A
changed file or renewed certificate applies from the next connection (`WebWatch`, asked at each
TLS handshake and each request).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from govnet.metrics.collector import collectors
from govnet.metrics.page import render_page, status_json
from govnet.metrics.view import Snapshot, View
from govnet.metrics.webauth import CHALLENGE, BasicAuth
from govnet.metrics.webconfig import WebConfig, WebWatch, exposure
from govnet.osutil.forked import in_child

log = logging.getLogger(__name__)
MAX_REQUEST = 8192
CHUNK = 1 << 18
RENDER_TIMEOUT = 300.0
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Exposition:
    """One exposition of one view version, gzipped."""

    version: int
    gzipped: bytes
    seconds: float

    def plain(self) -> bytes:
        return b"".join(self.plain_chunks())

    def plain_length(self) -> int:
        """The uncompressed size, from the gzip trailer (ISIZE: exact below 4 GiB)."""
        return int.from_bytes(self.gzipped[-4:], "little") if self.gzipped else 0

    def plain_chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The plain text, decompressed ``size`` bytes at a time (never 20 MB at once)."""
        if not self.gzipped:
            return
        inflate = zlib.decompressobj(wbits=31)
        chunk = inflate.decompress(self.gzipped, size)
        while chunk:
            yield chunk
            chunk = inflate.decompress(inflate.unconsumed_tail, size)
        rest = inflate.flush()
        if rest:
            yield rest


def render(snapshot: Snapshot, more: Sequence[Collector] = ()) -> Exposition:
    """The text exposition of a snapshot (prometheus-client's own), gzipped as it is written.

    Family by family: the whole text (20 MB at 10,000 units) never exists at once, only the
    current family's and the compressed output. ``more``: small collectors of facts that are not
    the view's (the audit trail's head), read as they are at the render.
    """
    started = time.perf_counter()
    gzipper = zlib.compressobj(5, zlib.DEFLATED, 31)
    parts = []
    for collector in itertools.chain(collectors(snapshot), more):
        for family in collector.collect():
            registry = CollectorRegistry(auto_describe=False)
            registry.register(_One(family))
            parts.append(gzipper.compress(generate_latest(registry)))
    parts.append(gzipper.flush())
    return Exposition(snapshot.version, b"".join(parts), time.perf_counter() - started)


class _One(Collector):
    def __init__(self, family: Metric) -> None:
        self.family = family

    def collect(self) -> Iterator[Metric]:
        yield self.family


class Exporter:
    """Owns the rendered exposition of one view and the HTTP endpoints."""

    def __init__(
        self,
        view: View,
        healthy: Callable[[], tuple[bool, str]],
        min_gap: float = 0.25,
        more: Sequence[Collector] = (),
    ) -> None:
        self.view = view
        self.healthy = healthy
        self.min_gap = min_gap
        self.more = tuple(more)
        self.web = WebConfig()
        self.auth = BasicAuth({})
        self.watch = WebWatch(self.web)
        self.rendered = Exposition(-1, b"", 0.0)
        self.renders = 0
        self._changed = asyncio.Event()
        self._renderer: asyncio.Task[None] | None = None
        view.listeners.append(self._changed.set)

    def render_now(self) -> Exposition:
        """Render in this process, on the calling thread (at start: the view is still empty)."""
        return self._keep(render(self.view.snapshot(), self.more))

    async def refresh(self) -> Exposition:
        """Render the current view in a forked child if it changed since the last render."""
        view = self.view
        if self.rendered.version == view.version:
            return self.rendered
        version, started, more = view.version, time.perf_counter(), self.more
        try:
            gzipped = await in_child(
                lambda: render(view.snapshot(), more).gzipped, RENDER_TIMEOUT, "rendering /metrics"
            )
        except OSError as exc:  # no fork (process limit): render here, in a thread
            log.warning("rendering /metrics in-process: cannot fork (%s)", exc)
            return self._keep(await asyncio.to_thread(render, view.snapshot(), more))
        return self._keep(Exposition(version, gzipped, time.perf_counter() - started))

    def _keep(self, rendered: Exposition) -> Exposition:
        self.rendered, self.view.render_seconds = rendered, rendered.seconds
        self.renders += 1
        return rendered

    async def _keep_fresh(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                done = await self.refresh()
            except Exception:  # a bug must not stop the exports: keep the last one, say why
                log.exception("rendering /metrics failed")
                done = self.rendered
            await asyncio.sleep(max(self.min_gap, 4 * done.seconds))

    def current(self) -> Exposition:
        return self.render_now() if self.rendered.version < 0 else self.rendered

    def exposition(self, want_gzip: bool) -> bytes:
        return self.current().gzipped if want_gzip else self.current().plain()

    async def serve(self, host: str, port: int, web: WebConfig | None = None) -> asyncio.Server:
        """Listen; with ``web``, over its TLS and behind its users (re-read when they change)."""
        if web is not None:
            self.web, self.auth, self.watch = web, BasicAuth(web.users), WebWatch(web)
        if web is not None and web.tls is not None:
            web.tls.sni_callback = self._handshake
        warning = exposure(host, self.web)
        if warning:
            log.warning("%s", warning)
        self.render_now()
        tls: dict[str, Any] = {"ssl": self.web.tls, "ssl_handshake_timeout": 10} if self.web.tls else {}
        server = await asyncio.start_server(self._handle, host, port, reuse_address=True, **tls)
        self._renderer = asyncio.ensure_future(self._keep_fresh())
        return server

    async def close(self) -> None:
        if self._renderer is not None:
            self._renderer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renderer
            self._renderer = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            writer.close()  # OSError: a reset, or a TLS error after the handshake
            return
        text = head[:MAX_REQUEST].decode("latin-1")
        try:
            self._follow(self.watch.current())
            if await self.auth.allows(_header(text, "authorization")):
                status, headers, body = self._route(text)
            else:
                status, headers, body = 401, {"WWW-Authenticate": CHALLENGE}, b"unauthorized\n"
        except Exception:  # a bug must not kill the exporter: answer 500 and log it
            log.exception("HTTP handler failed")
            status, headers, body = 500, {"Content-Type": "text/plain"}, b"internal error\n"
        length = len(body) if isinstance(body, bytes) else body.plain_length()
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}",
            f"Content-Length: {length}",
            "Connection: close",
        ]
        lines += [f"{k}: {v}" for k, v in {**self.web.headers, **headers}.items()]
        with contextlib.suppress(OSError):
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            if not head.startswith(b"HEAD"):
                for chunk in [body] if isinstance(body, bytes) else body.plain_chunks():
                    writer.write(chunk)
                    await writer.drain()
            await writer.drain()
        writer.close()

    def _follow(self, web: WebConfig) -> None:
        """Users and headers of a re-read web configuration (its certificates: `_handshake`)."""
        if web is not self.web:
            self.web, self.auth = web, BasicAuth(web.users)

    def _handshake(
        self, connection: ssl.SSLObject | ssl.SSLSocket, _name: str | None, _ctx: ssl.SSLContext
    ) -> None:
        """At every TLS handshake (OpenSSL's server-name callback, called with or without SNI):
        hand it the context of the web configuration in force, so a renewed certificate is
        served from the next connection on."""
        tls = self.watch.current().tls
        if tls is not None and tls is not connection.context:
            connection.context = tls

    def _route(self, head: str) -> tuple[int, dict[str, str], bytes | Exposition]:
        request, *header_lines = head.split("\r\n")
        parts = request.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return 400, {"Content-Type": "text/plain"}, b"bad request\n"
        method, target, _ = parts
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        if method not in ("GET", "HEAD"):
            return 405, {"Allow": "GET, HEAD"}, b"method not allowed\n"
        path = target.split("?", 1)[0]
        if path == "/metrics":
            want_gzip = "gzip" in headers.get("accept-encoding", "")
            extra = {"Vary": "Accept-Encoding", **({"Content-Encoding": "gzip"} if want_gzip else {})}
            rendered = self.current()  # plain text is streamed from it, decompressed chunk by chunk
            return (
                200,
                {"Content-Type": CONTENT_TYPE_LATEST, **extra},
                rendered.gzipped if want_gzip else rendered,
            )
        if path == "/healthz":
            ok, why = self.healthy()
            body = json.dumps({"status": "ok" if ok else "unhealthy", "detail": why, "time": time.time()})
            return (200 if ok else 503), {"Content-Type": "application/json"}, body.encode() + b"\n"
        if path == "/api/status":
            return 200, {"Content-Type": "application/json; charset=utf-8"}, _json(status_json(self.view))
        if path in ("/", "/index.html"):
            return 200, {"Content-Type": "text/html; charset=utf-8"}, render_page(self.view).encode()
        return 404, {"Content-Type": "text/plain"}, b"not found\n"


def _header(head: str, name: str) -> str | None:
    """The value of header ``name`` (lower case) in a request head, if it is there.

    >>> _header("GET / HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Basic eA==", "authorization")
    'Basic eA=='
    """
    for line in head.split("\r\n")[1:]:
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == name:
            return value.strip()
    return None


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode()
