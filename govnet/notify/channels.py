"""Posting to a DingTalk robot (signed) and to an SMS gateway, with bounded retries.

DingTalk's custom robots with "加签" (signing) accept a request only if its query carries
``timestamp`` (milliseconds) and ``sign``: the base64 of HMAC-SHA256, keyed by the robot's secret,
over ``"<timestamp>\\n<secret>"``, URL-encoded; a timestamp more than an hour off is refused. The
robot's ``access_token`` is a query parameter too. All three are secrets or derived from one, so
the URL built here is never logged or raised (``Delivery.error`` holds only a status or a reason).

A delivery is retried on what may pass on its own (no answer, a timeout, HTTP 5xx or 429), at
most ``attempts`` times with a doubling pause; an answer that says the request is wrong (HTTP 4xx,
a DingTalk ``errcode``) is final at once. A robot takes at most 20 posts a minute: each robot's
posts are paced (``Pacer``) so the bridge does not meet the limit, and when it does (another
sender shares the robot) the delivery fails at once and the retry is Alertmanager's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Policy:
    """How hard one delivery tries: the bridge's ``--timeout`` and ``--attempts``."""

    timeout: float = 5.0
    attempts: int = 3
    pause: float = 1.0
    """Before the second attempt; doubled before each next one."""
    pace_wait: float = 10.0
    """How long a post may wait for its robot's next free slot (20 a minute) before the bridge
    answers 502 and leaves the retry to Alertmanager."""


@dataclass(frozen=True)
class Delivery:
    """What became of one post: delivered or not, after how many attempts, and why not."""

    ok: bool
    attempts: int
    error: str = ""


class Final(Exception):
    """An answer that another attempt would not change."""


class Passing(Exception):
    """A failure that may pass: worth another attempt."""


class Limited(Final):
    """The robot refused the post as one too many this minute (DingTalk errcode 130101).

    Final for this delivery (another attempt within seconds meets the same limit); the bridge
    marks the robot's minute as used up and answers 502, so Alertmanager retries the group later.
    """


DINGTALK_LIMITED = 130101
"""DingTalk's answer to a custom robot posted to more than 20 times in a minute ("send too fast,
exceed 20 times per minute"; reported e.g. in ccfos/nightingale#369)."""


class Pacer:
    """At most ``limit`` posts in any ``window`` seconds to one robot (DingTalk: 20 a minute).

    A post reserves the next free slot: now when the window has room, otherwise when its oldest
    post leaves it. One pacer a robot, shared by the bridge's request threads.

    >>> now = [0.0]
    >>> pacer = Pacer(limit=2, window=60.0, clock=lambda: now[0])
    >>> pacer.reserve(30.0), pacer.reserve(30.0), pacer.reserve(30.0)
    (0.0, 0.0, None)
    >>> now[0] = 45.0
    >>> pacer.reserve(30.0)
    15.0
    """

    def __init__(self, limit: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self, max_wait: float) -> float | None:
        """Seconds to wait before posting (the slot is then taken), or None: no slot that soon."""
        with self._lock:
            now = self.clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            at = now if len(self._sent) < self.limit else self._sent[-self.limit] + self.window
            if at - now > max_wait:
                return None
            self._sent.append(at)
            return at - now

    def used_up(self) -> None:
        """The robot said it had enough: count this minute as full from now."""
        with self._lock:
            now = self.clock()
            self._sent.extend([now] * max(0, self.limit - len(self._sent)))


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value for ``timestamp_ms`` (already URL-encoded).

    >>> dingtalk_sign("SEC-test", 1700000000000)
    'Sf%2Fft2shUSqoR1REF%2BDS39IoTlwQRyDPwfM8S94ODOc%3D'
    """
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(url: str, token: str, secret: str, timestamp_ms: int) -> str:
    """The robot's URL with its token and this request's signature."""
    sign = dingtalk_sign(secret, timestamp_ms)
    return f"{url}?access_token={quote_plus(token)}&timestamp={timestamp_ms}&sign={sign}"


def dingtalk_body(title: str, text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def post_json(url: str, body: dict[str, Any], timeout: float, headers: dict[str, str] | None = None) -> Any:
    """POST ``body``; the answer's JSON (or None). Raises ``Final`` or ``Passing``."""
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 (inventory URLs: http(s) only)
    request.add_header("Content-Type", "application/json; charset=utf-8")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (http(s) only)
            raw = answer.read(65536)
    except urllib.error.HTTPError as exc:
        raise (Passing if exc.code in RETRIED_STATUS else Final)(f"HTTP {exc.code}") from None
    except TimeoutError:
        raise Passing(f"no answer within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Passing(f"cannot connect: {getattr(reason, 'strerror', None) or reason}") from None
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return None


def attempt(
    send: Callable[[], None], policy: Policy, sleep: Callable[[float], None] = time.sleep
) -> Delivery:
    """``send`` until it returns, at most ``policy.attempts`` times while failures may pass.

    >>> calls = []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise Passing("HTTP 503")
    >>> attempt(flaky, Policy(attempts=3), sleep=lambda s: None)
    Delivery(ok=True, attempts=3, error='')
    >>> calls.clear()
    >>> attempt(flaky, Policy(attempts=2), sleep=lambda s: None)
    Delivery(ok=False, attempts=2, error='HTTP 503')
    """
    pause = policy.pause
    for number in range(1, policy.attempts + 1):
        try:
            send()
        except Final as exc:
            return Delivery(False, number, str(exc))
        except Passing as exc:
            if number == policy.attempts:
                return Delivery(False, number, str(exc))
            sleep(pause)
            pause *= 2
        else:
            return Delivery(True, number)
    return Delivery(False, policy.attempts, "no attempt")


def send_dingtalk(
    url: str, token: str, secret: str, title: str, text: str, timeout: float, clock: Callable[[], float]
) -> None:
    """One signed post (signed afresh: a retry an hour later would carry a stale timestamp)."""
    signed = dingtalk_url(url, token, secret, int(clock() * 1000))
    answer = post_json(signed, dingtalk_body(title, text), timeout)
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if code != 0:
        message = str(answer.get("errmsg", ""))[:120] if isinstance(answer, dict) else ""
        raise (Limited if code == DINGTALK_LIMITED else Final)(f"DingTalk errcode {code}: {message}")


def send_sms(url: str, numbers: list[str], text: str, token: str | None, timeout: float) -> None:
    """A plain JSON post to the gateway: ``{"to": [numbers], "text": text}``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    post_json(url, {"to": numbers, "text": text}, timeout, headers)
