"""A small client for Prometheus' HTTP API (``/api/v1/query`` and ``query_range``).

Reports read what Prometheus recorded; they never talk to the daemons. Every failure a user can
cause (wrong URL, Prometheus down, a query it refuses) becomes one ``PrometheusError`` line.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from govnet.errors import GovnetError, UsageError
from govnet.settings import settings

TIMEOUT = 60.0
MAX_POINTS = 11_000
"""Prometheus refuses a range query of more than 11,000 points per series."""


class PrometheusError(GovnetError):
    """Prometheus cannot be reached or refused a query."""


def default_url() -> str:
    return settings().prometheus


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]
    """(unix time, value), oldest first; an instant query has one point."""


@dataclass(frozen=True)
class Prometheus:
    url: str

    def query(self, expr: str, at: float) -> list[Series]:
        data = self._get("query", {"query": expr, "time": f"{at:.3f}"})
        return [Series(dict(r["metric"]), [_point(r["value"])]) for r in data["result"]]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        if (end - start) / step + 1 > MAX_POINTS:
            raise PrometheusError(
                f"{(end - start) / step + 1:.0f} points per series with a step of {step:g} s: "
                f"Prometheus allows {MAX_POINTS}; choose a larger --step"
            )
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        data = self._get("query_range", params)
        return [Series(dict(r["metric"]), [_point(v) for v in r["values"]]) for r in data["result"]]

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        base = self.url.rstrip("/")
        url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:  # noqa: S310 - http(s) checked
                body = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise PrometheusError(
                f"Prometheus at {base}: {path}: HTTP {exc.code}: {_error_of(exc)}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusError(f"cannot reach Prometheus at {base}: {reason}") from None
        except ValueError:
            raise PrometheusError(f"{base} did not answer as Prometheus' HTTP API does (not JSON)") from None
        if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
            raise PrometheusError(f"Prometheus at {base}: {path}: {body.get('error', 'unexpected answer')}")
        return dict(body["data"])


def check_url(url: str) -> str:
    """``--prometheus``: an http(s) URL.

    >>> check_url("http://127.0.0.1:9090/")
    'http://127.0.0.1:9090/'
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--prometheus '{url}': expected an http:// or https:// URL")
    return url


def _point(pair: list[Any]) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])


def _error_of(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read())
        return str(body.get("error", exc.reason))
    except (ValueError, OSError):
        return str(exc.reason)
