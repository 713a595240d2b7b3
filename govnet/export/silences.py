"""Rollout-aware silencing: Alertmanager is told which units a wave is changing, and when it is over.

Before a wave's first push, ``Silencer.wave`` creates one silence (Alertmanager API v2) whose
matcher is ``unit=~"id1|id2|…"`` over the wave's units and the units behind them (a node being
changed may cut its units off for a moment), ``createdBy`` the OS user, ``comment`` the run id.
After the wave is verified — or fails, or govnet is interrupted — the silence is expired (a
``finally``). It also carries an end time (``MAX_SILENCE``) so that a govnet killed with
SIGKILL cannot leave it behind for long.

Alertmanager unreachable is a warning, not a stop: silencing spares the receivers noise, it
protects nothing, and refusing to roll out because the alerting stack is down would block the
fix for that very outage. The warning says the alerts of the wave may fire.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from govnet.errors import UsageError
from govnet.settings import settings
from govnet.state.audit import current_user

MAX_SILENCE = timedelta(hours=2)
TIMEOUT = 5.0


def unit_regex(units: Iterable[str]) -> str:
    """An RE2 alternation matching exactly these unit ids (Alertmanager anchors it).

    >>> unit_regex(["wy-b", "sz-a", "wy-b"])
    'sz-a|wy-b'
    >>> unit_regex(["a.b"])
    'a\\\\.b'
    """
    return "|".join(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", u) for u in sorted(set(units)))


class Silencer:
    """Creates and expires rollout silences on one Alertmanager; every failure is a warning."""

    def __init__(self, url: str, run_id: str = "", warn: Callable[[str], None] | None = None) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"--alertmanager '{url}': expected an http(s):// URL of Alertmanager")
        self.base = url.rstrip("/")
        self.shown = f"{parsed.scheme}://{parsed.hostname}:{parsed.port or ''}".rstrip(":")
        self.run_id = run_id
        self.warn = warn or (lambda _: None)
        self.created: list[str] = []

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (http(s) only, checked in __init__)
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 (http(s) only)
            raw = answer.read()
        return json.loads(raw) if raw else None

    def create(self, units: Iterable[str], what: str) -> str | None:
        """Silence alerts of ``units``; the silence id, or None (and a warning) if it failed."""
        regex = unit_regex(units)
        if not regex:
            return None
        now = datetime.now(UTC)
        body = {
            "matchers": [{"name": "unit", "value": regex, "isRegex": True, "isEqual": True}],
            "startsAt": now.isoformat(),
            "endsAt": (now + MAX_SILENCE).isoformat(),
            "createdBy": current_user(),
            "comment": f"govnet rollout {self.run_id}: {what}",
        }
        try:
            answer = self._call("POST", "/api/v2/silences", body)
            ident = str(answer["silenceID"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.warn(
                f"alertmanager {self.shown}: cannot create the silence for {what} ({_why(exc)}); "
                "its units' alerts may fire while they are changed"
            )
            return None
        self.created.append(ident)
        return ident

    def expire(self, ident: str | None) -> None:
        if ident is None:
            return
        try:
            self._call("DELETE", f"/api/v2/silence/{urllib.parse.quote(ident)}")
        except (OSError, ValueError) as exc:
            self.warn(
                f"alertmanager {self.shown}: cannot expire silence {ident} ({_why(exc)}); "
                f"it ends by itself within {MAX_SILENCE.total_seconds() / 3600:.0f} h"
            )

    @contextlib.contextmanager
    def wave(self, units: Iterable[str], what: str) -> Iterator[str | None]:
        """Silence ``units`` for the duration of the block, expired however the block ends."""
        ident = self.create(units, what)
        try:
            yield ident
        finally:
            self.expire(ident)


def _why(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def from_option(url: str | None, warn: Callable[[str], None]) -> Silencer | None:
    """The silencer for ``--alertmanager`` (else ``$GOVNET_ALERTMANAGER_URL``); None if neither is set."""
    chosen = url or settings().alertmanager_url
    return Silencer(chosen, warn=warn) if chosen else None
