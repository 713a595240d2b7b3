"""What a contact reads (DingTalk markdown, SMS), the DingTalk signature, and the retry policy:
pure functions, no socket."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from govnet.notify import channels, messages

SHANGHAI = ZoneInfo("Asia/Shanghai")


def payload(status: str = "firing", count: int = 1) -> dict[str, Any]:
    alerts = [
        {
            "status": status,
            "labels": {
                "alertname": "GovnetUnitDown",
                "unit": f"sz-u{i}",
                "name": f"测试单位{i}",
                "segment": "party",
                "parent": "agg-a",
                "severity": "warning",
            },
            "annotations": {"summary": f"链路中断 Link down: 测试单位{i} (sz-u{i}) is down on party"},
            "startsAt": "2026-12-06T02:00:00Z",
            "endsAt": "2026-12-06T02:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        }
        for i in range(count)
    ]
    return {"status": status, "alerts": alerts, "commonLabels": {"alertname": "GovnetUnitDown"}}


def test_markdown_names_unit_segment_and_times_in_the_site_zone() -> None:
    text = messages.markdown(payload(), SHANGHAI)
    assert text.startswith("### [告警 FIRING] 链路中断 Link down: 测试单位0 (sz-u0)")
    assert "- 单位 unit: 测试单位0 (sz-u0)" in text
    assert "- 网络 segment: 党务网 party" in text
    assert "- 开始 since: 2026-12-06 10:00:00 CST" in text
    assert "恢复 resolved" not in text


def test_a_resolution_says_when() -> None:
    text = messages.markdown(payload("resolved"), SHANGHAI)
    assert text.startswith("### [恢复 RESOLVED]") and "- 恢复 resolved: 2026-12-06 10:30:00 CST" in text


def test_an_sms_is_short_whatever_the_group() -> None:
    text = messages.sms_text(payload(count=7), SHANGHAI)
    lines = text.splitlines()
    assert lines[0] == "【govnet】告警 FIRING 7"
    assert len(lines) == 1 + messages.SMS_ALERTS + 1 and lines[-1].startswith("…另有 4 条")
    assert messages.title(payload(count=7)) == "[告警 FIRING] GovnetUnitDown ×7"


def test_the_signed_url_is_what_dingtalk_checks() -> None:
    secret, stamp = "SECabc", 1_765_000_000_123
    url = channels.dingtalk_url("https://robot.example/robot/send", "tok+en", secret, stamp)
    query = parse_qs(urlsplit(url).query)
    assert query["access_token"] == ["tok+en"] and query["timestamp"] == [str(stamp)]
    mac = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(mac).decode()]


def test_final_failures_are_not_retried_and_passing_ones_are_bounded() -> None:
    pauses: list[float] = []
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise channels.Final("HTTP 400")

    def down() -> None:
        calls.append(1)
        raise channels.Passing("cannot connect")

    assert channels.attempt(refused, channels.Policy(attempts=3), pauses.append) == channels.Delivery(
        False, 1, "HTTP 400"
    )
    calls.clear()
    done = channels.attempt(down, channels.Policy(attempts=4, pause=0.5), pauses.append)
    assert done == channels.Delivery(False, 4, "cannot connect") and len(calls) == 4
    assert pauses == [0.5, 1.0, 2.0], "a doubling pause between attempts, none after the last"
