"""What a contact reads: an Alertmanager notification as DingTalk markdown or an SMS line.

The people who read these are a unit's IT officer or a county's network administrator, on a
phone, in Chinese; the engineer who picks it up next needs the English alert name and the unit
id. So every line is Chinese first with the English beside it, times are in the site's timezone
with the zone shown, and an SMS stays short (one line per alert, at most ``SMS_ALERTS`` alerts).
Pure functions over the webhook payload (Alertmanager's version 4 JSON).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

SEGMENT_NAMES = {"intranet": "电子政务内网", "party": "党务网", "extranet": "电子政务外网"}
STATUS_WORDS = {"firing": "告警 FIRING", "resolved": "恢复 RESOLVED"}
SMS_ALERTS = 3
"""An SMS names at most this many alerts (a long SMS is split and arrives out of order)."""


def segment_words(segment: str) -> str:
    """
    >>> segment_words("party"), segment_words("lab")
    ('党务网 party', 'lab')
    """
    name = SEGMENT_NAMES.get(segment)
    return f"{name} {segment}" if name else segment


def local_time(stamp: str, zone: ZoneInfo) -> str:
    """An RFC 3339 time from Alertmanager in the site's zone, the zone shown; '' if unreadable.

    >>> local_time("2026-12-06T02:03:04.5Z", ZoneInfo("Asia/Shanghai"))
    '2026-12-06 10:03:04 CST'
    >>> local_time("0001-01-01T00:00:00Z", ZoneInfo("Asia/Shanghai"))
    ''
    """
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if when.year < 2000:  # Alertmanager's zero time: not resolved yet
        return ""
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def title(payload: dict[str, Any]) -> str:
    """One line: status, and the alert's summary or the alert name and count.

    >>> title({"status": "firing", "alerts": [{"annotations": {"summary": "链路中断 Link down"}}]})
    '[告警 FIRING] 链路中断 Link down'
    """
    alerts = payload.get("alerts") or []
    status = STATUS_WORDS.get(str(payload.get("status")), str(payload.get("status")))
    if len(alerts) == 1:
        what = str(alerts[0].get("annotations", {}).get("summary", ""))
    else:
        name = payload.get("commonLabels", {}).get("alertname", "govnet")
        what = f"{name} ×{len(alerts)}"
    return f"[{status}] {what}".strip()


def markdown(payload: dict[str, Any], zone: ZoneInfo) -> str:
    """DingTalk markdown: a heading, then one block per alert."""
    lines = [f"### {title(payload)}", ""]
    for alert in payload.get("alerts") or []:
        lines += _alert_lines(alert, zone)
    return "\n".join(lines).rstrip() + "\n"


def _alert_lines(alert: dict[str, Any], zone: ZoneInfo) -> list[str]:
    labels: dict[str, str] = alert.get("labels", {})
    notes: dict[str, str] = alert.get("annotations", {})
    status = STATUS_WORDS.get(str(alert.get("status")), str(alert.get("status")))
    lines = [f"**{status}: {notes.get('summary', labels.get('alertname', ''))}**", ""]
    if notes.get("description"):
        lines += [f"> {notes['description']}", ""]
    facts = [
        ("单位 unit", f"{labels.get('name', '')} ({labels['unit']})".strip() if "unit" in labels else ""),
        ("网络 segment", segment_words(labels["segment"]) if "segment" in labels else ""),
        ("上联 parent", labels.get("parent", "")),
        ("级别 severity", labels.get("severity", "")),
        ("告警 alert", labels.get("alertname", "")),
        ("开始 since", local_time(str(alert.get("startsAt", "")), zone)),
        (
            "恢复 resolved",
            local_time(str(alert.get("endsAt", "")), zone) if alert.get("status") == "resolved" else "",
        ),
    ]
    lines += [f"- {key}: {value}" for key, value in facts if value]
    return [*lines, ""]


def sms_text(payload: dict[str, Any], zone: ZoneInfo) -> str:
    """A short plain text: the status, then one line per alert (its summary and start).

    >>> alert = {"status": "firing", "labels": {"unit": "u1"}, "annotations": {"summary": "断 down"},
    ...          "startsAt": "2026-12-06T02:03:04Z"}
    >>> print(sms_text({"status": "firing", "alerts": [alert]}, ZoneInfo("Asia/Shanghai")))
    【govnet】告警 FIRING 1
    断 down 2026-12-06 10:03:04 CST
    """
    alerts = payload.get("alerts") or []
    status = STATUS_WORDS.get(str(payload.get("status")), str(payload.get("status")))
    lines = [f"【govnet】{status} {len(alerts)}"]
    for alert in alerts[:SMS_ALERTS]:
        summary = alert.get("annotations", {}).get("summary") or alert.get("labels", {}).get("alertname", "")
        lines.append(f"{summary} {local_time(str(alert.get('startsAt', '')), zone)}".strip())
    if len(alerts) > SMS_ALERTS:
        lines.append(f"…另有 {len(alerts) - SMS_ALERTS} 条 and {len(alerts) - SMS_ALERTS} more")
    return "\n".join(lines)
