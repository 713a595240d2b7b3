"""Posting to a DingTalk robot (signed) and to an SMS gateway, with bounded retries.

DingTalk's custom robots with "加签" (signing) accept a request only if its query carries
``timestamp`` (milliseconds) and ``sign``: the base64 of HMAC-SHA256, keyed by the robot's secret,
over ``"<timestamp>\\n<secret>"``, URL-encoded; a timestamp more than an hour off is refused. The
robot's ``access_token`` is a query parameter too. All three are secrets or derived from one, so
the URL built here is never logged or raised (``Delivery.error`` holds only a status or a reason).

A delivery is retried on what may pass on its own (no answer, a timeout, HTTP 5xx or 429), at
most ``attempts`` times with a doubling pause; an answer that says the request is wrong (HTTP 4xx,
a DingTalk ``errcode``) is final at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
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
        raise Final(f"DingTalk errcode {code}: {message}")


def send_sms(url: str, numbers: list[str], text: str, token: str | None, timeout: float) -> None:
    """A plain JSON post to the gateway: ``{"to": [numbers], "text": text}``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    post_json(url, {"to": numbers, "text": text}, timeout, headers)
