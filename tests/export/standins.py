"""Loopback stand-ins for the endpoints a contact's alerts go to, so that no test ever reaches a
real one: WeChat Work's API (token, then message/send), a DingTalk robot that checks the request
signature as DingTalk does, an SMS gateway, and an SMTP server. Each keeps what it received.
"""

from __future__ import annotations

import base64
import email
import email.header
import hashlib
import hmac
import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WECHAT_TOKEN = "standin-access-token"


@dataclass
class Received:
    """What one stand-in was sent: (path with query, JSON body) per request, or raw mails."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    mails: list[tuple[str, list[str], str]] = field(default_factory=list)
    address: tuple[str, int] = ("127.0.0.1", 0)

    @property
    def base(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"


Answer = Callable[[str, dict[str, Any], Received], tuple[int, dict[str, Any]]]


@contextmanager
def http_standin(answer: Answer) -> Iterator[Received]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._reply(*answer(self.path, {}, received))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            self._reply(*answer(self.path, body, received))

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.address = ("127.0.0.1", server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wechat_answer(secret: str) -> Answer:
    """WeChat Work: ``gettoken`` with the right corpsecret gives a token; ``message/send`` with
    that token is kept."""

    def answer(path: str, body: dict[str, Any], got: Received) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if parts.path.endswith("/gettoken"):
            if query.get("corpsecret") != [secret]:
                got.refused.append("gettoken: wrong secret")
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": WECHAT_TOKEN, "expires_in": 7200}
        if parts.path.endswith("/message/send") and query.get("access_token") == [WECHAT_TOKEN]:
            got.requests.append((path, body))
            return 200, {"errcode": 0, "errmsg": "ok"}
        got.refused.append(f"unexpected {parts.path}")
        return 200, {"errcode": 40014, "errmsg": "invalid access_token"}

    return answer


def dingtalk_answer(token: str, secret: str, earlier: int = 0) -> Answer:
    """A DingTalk robot with signing on: the token, a timestamp within the hour, and
    sign = urlencode(base64(HMAC-SHA256(secret, "timestamp\\nsecret"))), as DingTalk checks them;
    and its limit, 20 posts a minute, answered with errcode 130101 past it. ``earlier``: posts
    another sender made to the robot just now."""
    accepted = [time.monotonic()] * earlier

    def answer(path: str, body: dict[str, Any], got: Received) -> tuple[int, dict[str, Any]]:
        query = parse_qs(urlsplit(path).query)
        stamp = query.get("timestamp", ["0"])[0]
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if query.get("access_token") != [token]:
            got.refused.append("token")
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if abs(time.time() * 1000 - int(stamp)) > 3_600_000 or query.get("sign") != [expected]:
            got.refused.append("sign")
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        now = time.monotonic()
        accepted[:] = [stamp for stamp in accepted if stamp > now - 60]
        if len(accepted) >= 20:
            got.refused.append("limit")
            return 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        accepted.append(now)
        got.requests.append((path, body))
        return 200, {"errcode": 0, "errmsg": "ok"}

    return answer


def sms_answer(path: str, body: dict[str, Any], got: Received) -> tuple[int, dict[str, Any]]:
    got.requests.append((path, body))
    return 200, {"ok": True}


@contextmanager
def smtp_standin() -> Iterator[Received]:
    """Just enough SMTP for Alertmanager (EHLO, MAIL, RCPT, DATA, QUIT; no STARTTLS, no AUTH)."""
    received = Received()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            sender, rcpts = "", list[str]()
            self._say("220 standin ESMTP")
            while line := self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n"):
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self._say("250-standin\r\n250 8BITMIME")
                elif verb == "MAIL":
                    sender, rcpts = line.split(":", 1)[1].strip(" <>"), []
                    self._say("250 ok")
                elif verb == "RCPT":
                    rcpts.append(line.split(":", 1)[1].strip(" <>"))
                    self._say("250 ok")
                elif verb == "DATA":
                    self._say("354 go on")
                    received.mails.append((sender, rcpts, self._data()))
                    self._say("250 queued")
                elif verb == "QUIT":
                    self._say("221 bye")
                    return
                else:
                    self._say("250 ok" if verb in ("RSET", "NOOP") else "502 not here")

        def _data(self) -> str:
            lines = []
            while (line := self.rfile.readline().decode("utf-8", "replace")) not in (".\r\n", ".\n", ""):
                lines.append(line)
            return "".join(lines)

        def _say(self, text: str) -> None:
            self.wfile.write(text.encode() + b"\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    received.address = ("127.0.0.1", server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def decoded_mail(raw: str) -> str:
    """A mail's subject and parts, quoted-printable and base64 decoded (enough to search it)."""
    message = email.message_from_string(raw)
    parts = [message] if not message.is_multipart() else list(message.walk())
    texts: list[str] = []
    for part in parts:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    headers = str(email.header.make_header(email.header.decode_header(message.get("Subject", ""))))
    return headers + "\n" + "\n".join(texts)


@contextmanager
def metrics_standin(text: str) -> Iterator[Received]:
    """A fixed /metrics page: the daemon's series for a test's situation (a unit down)."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.address = ("127.0.0.1", server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
