"""The daemon's own status page: what an operator needs at a glance, without Grafana.

Server-rendered HTML (no JavaScript needed), refreshed every 10 s: per-segment availability,
the units that are not up with their Chinese names, since when and where the path breaks,
isolation breaches, recent events and the probe cycles. Everything is escaped.
"""

from __future__ import annotations

import html
import time
from typing import Any

from govnet import __version__
from govnet.metrics.view import View
from govnet.probes.base import ProbeResult
from govnet.probes.health.page import section as health_section
from govnet.probes.isolation.probe import checked

STATE_CLASS = {"up": "ok", "down": "bad", "unreachable": "warn", "unknown": "idle"}
SEGMENT_TITLE = {
    "intranet": "电子政务内网 intranet",
    "party": "党务网 party network",
    "extranet": "电子政务外网 extranet",
}


def status_json(view: View) -> dict[str, Any]:
    """The view as JSON (``/api/status``): segments, every unit-segment state, isolation, cycles."""
    units = []
    for entry in view.tracker.entries.values():
        element = view.element(entry.element)
        units.append(
            {
                "unit": entry.element,
                "name": element.name if element else "",
                "segment": entry.segment,
                "node": not entry.is_unit,
                "state": entry.state,
                "since": entry.since,
                "detail": entry.detail,
                "loss_ratio": entry.loss,
                "rtt_seconds": entry.rtt,
                "path_hop": entry.path_hop,
                "path_hops": entry.path_hops,
            }
        )
    segments = {
        s: {"availability": view.availability(s), **view.tracker.counts(s)} for s in view.inventory.segments
    }
    isolation = [
        {"vantage": v, "unit": u, "segment": s, "ok": r.success, "checked": checked(r), "detail": r.detail}
        for (v, u, s), r in _isolation_checks(view)
    ]
    cycles = [
        {
            "probe": c.probe,
            "segment": c.segment,
            "duration": c.duration,
            "targets": c.targets,
            "failures": c.failures,
            "cycles": c.cycles,
            "finished": c.started + c.duration if c.cycles else None,
        }
        for c in view.cycles.values()
    ]
    compliance = [
        {
            "unit": r.unit,
            "name": (element.name if (element := view.element(r.unit)) else ""),
            "state": r.state,
            "checked": view.compliance.checked.get(r.unit),
            "missing": r.missing,
            "extra": r.extra,
            "drifted": r.drifted_categories,
            "pending": r.pending_parts,
            "source": next((d.source.describe() for d in r.devices if d.source), ""),
            "reason": r.reason,
        }
        for r in sorted(view.compliance.reports.values(), key=lambda r: r.unit)
    ]
    return {
        "site": view.site,
        "shard": view.shard,
        "version": __version__,
        "segments": segments,
        "units": units,
        "isolation": isolation,
        "cycles": cycles,
        "traps": dict(view.trapped.by_kind),
        "events": list(view.events),
        "compliance": compliance,
    }


def _ago(at: float) -> str:
    seconds = max(0, int(time.time() - at))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _compliance_section(reports: list[dict[str, Any]]) -> str:
    """Drifted and unknown units (critical categories first), then units pending rollout (parts
    govnet never applied: not yet built, not drift); a one-line summary otherwise."""
    if not reports:
        return '<p class="idle" id="compliance">not checked (no compliance block in the config, or no check yet)</p>'
    bad = sorted(
        (r for r in reports if r["state"] != "compliant"),
        key=lambda r: (
            r["state"] != "drifted",
            r["state"] == "pending",
            not ({"security-baseline", "party-isolation"} & set(r["drifted"])),
            r["unit"],
        ),
    )
    clean = len(reports) - len(bad)
    waiting = sum(1 for r in bad if r["state"] == "pending")
    summary = f"{clean} of {len(reports)} units compliant" + (
        f", {waiting} pending rollout" if waiting else ""
    )
    if not bad:
        return f'<p class="ok" id="compliance">{summary}</p>'
    rows = "".join(_compliance_row(r) for r in bad[:500])
    worst = "bad" if any(r["state"] == "drifted" for r in bad) else "warn" if len(bad) > waiting else "idle"
    return (
        f'<p class="{worst}" id="compliance">{summary}</p>'
        '<table id="drift"><tr><th>单位 unit</th><th>名称 name</th><th>配置 config</th><th>缺少/多出 missing/extra</th>'
        f"<th>部分 parts</th><th>修改人 / 状态 changed by / state</th><th>检查时间 checked</th></tr>{rows}</table>"
    )


def _compliance_row(r: dict[str, Any]) -> str:
    """A drifted or unknown unit; a unit pending rollout says so, never "drifted"."""
    e = html.escape
    pending = r["state"] == "pending"
    css = "bad" if r["state"] == "drifted" else "idle" if pending else "warn"
    state, counts = ("pending rollout", "") if pending else (r["state"], f"+{r['missing']} -{r['extra']}")
    parts = ", ".join(r["pending"] if pending else r["drifted"])
    why = "not yet built by govnet" if pending else r["source"] or r["reason"]
    return (
        f'<tr class="{css}" data-unit="{e(r["unit"])}" data-state="{e(r["state"])}"><td>{e(r["unit"])}</td>'
        f"<td>{e(r['name'])}</td><td>{e(state)}</td><td>{counts}</td>"
        f"<td>{e(parts)}</td><td>{e(why)}</td>"
        f"<td>{_ago(r['checked']) + ' ago' if r['checked'] else '—'}</td></tr>"
    )


def render_page(view: View) -> str:
    e = html.escape
    data = status_json(view)
    cards = []
    for segment, info in data["segments"].items():
        ratio = info["availability"]
        shown = "—" if ratio is None else f"{ratio * 100:.1f}%"
        cls = "idle" if ratio is None else ("ok" if ratio >= 0.99 else "warn" if ratio >= 0.9 else "bad")
        cards.append(
            f'<div class="card {cls}" data-segment="{e(segment)}"><h2>{e(SEGMENT_TITLE.get(segment, segment))}</h2>'
            f'<p class="big">{shown}</p><p>{info["up"]} up · {info["down"]} down · {info["unreachable"]} unreachable'
            f" · {info['unknown']} unknown</p></div>"
        )
    trouble = sorted(
        (u for u in data["units"] if u["state"] != "up"), key=lambda u: (u["state"] != "down", u["unit"])
    )
    rows = (
        "".join(
            f'<tr class="{STATE_CLASS[u["state"]]}" data-unit="{e(u["unit"])}"><td>{e(u["unit"])}</td><td>{e(u["name"])}</td>'
            f"<td>{e(u['segment'])}</td><td>{e(u['state'])}</td><td>{_ago(u['since'])}</td>"
            f"<td>{e(u['path_hop'] or '')}</td><td>{e(u['detail'])}</td></tr>"
            for u in trouble[:500]
        )
        or '<tr><td colspan="7">every unit is up</td></tr>'
    )
    breaches = [i for i in data["isolation"] if not i["ok"] and i["checked"]]
    unchecked = sum(1 for i in data["isolation"] if not i["checked"])
    isolation = (
        f'<p class="bad" id="isolation">ISOLATION BREACHED: {len(breaches)} check(s) answered</p><ul>'
        + "".join(
            f"<li>{e(b['unit'])} ({e(b['segment'])}) from {e(b['vantage'])}: {e(b['detail'])}</li>"
            for b in breaches[:50]
        )
        + "</ul>"
        if breaches
        else f'<p class="ok" id="isolation">party-network isolation holds ({len(data["isolation"]) - unchecked} checks'
        + (f", {unchecked} not run this cycle" if unchecked else "")
        + ")</p>"
        if len(data["isolation"]) > unchecked
        else '<p class="idle" id="isolation">isolation not checked (no isolation probe, or no cycle yet)</p>'
    )
    drift = _compliance_section(data["compliance"])
    events = "".join(
        f"<li>{time.strftime('%H:%M:%S', time.localtime(ev['at']))} {e(str(ev.get('kind')))}: "
        f"{e(' '.join(f'{k}={v}' for k, v in ev.items() if k not in ('at', 'kind')))}</li>"
        for ev in data["events"][:20]
    )
    cycles = "".join(
        f"<tr><td>{e(c['probe'])}</td><td>{e(c['segment'])}</td><td>{c['targets']}</td><td>{c['failures']}</td>"
        f"<td>{c['duration']:.2f} s</td><td>{_ago(c['finished']) + ' ago' if c['finished'] else '—'}</td></tr>"
        for c in data["cycles"]
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>govnet · {e(view.site)}</title>
<style>
body{{font-family:system-ui,"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:1.5em;color:#222}}
.cards{{display:flex;gap:1em;flex-wrap:wrap}} .card{{border-radius:8px;padding:.5em 1em;min-width:16em;border:2px solid #ccc}}
.big{{font-size:2.2em;margin:.2em 0}} .ok{{border-color:#2a7;color:#185}} .warn{{border-color:#d90;color:#a60}}
.bad{{border-color:#c33;color:#b11}} .idle{{color:#777}} table{{border-collapse:collapse;margin-top:.5em}}
td,th{{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}} tr.bad td{{background:#fee}}
tr.warn td{{background:#fff6e0}}
</style></head><body>
<h1>govnet · {e(view.site)} <small>shard {e(view.shard)} · v{e(__version__)}</small></h1>
<div class="cards">{"".join(cards)}</div>
<h2>党务网隔离 Isolation</h2>{isolation}
<h2>异常单位 Units not up</h2>
<table id="trouble"><tr><th>单位 unit</th><th>名称 name</th><th>网络 segment</th><th>状态 state</th><th>起始 since</th><th>断点之前 path breaks after</th><th>详情 detail</th></tr>{rows}</table>
<h2>配置合规 Configuration compliance</h2>{drift}{_health_section(view)}
<h2>最近事件 Recent events</h2><ul id="events">{events}</ul>
<h2>探测周期 Probe cycles</h2>
<table id="cycles"><tr><th>探测 probe</th><th>网络 segment</th><th>目标 targets</th><th>失败 failed</th><th>耗时 took</th><th>完成 finished</th></tr>{cycles}</table>
</body></html>
"""


def _health_section(view: View) -> str:
    """The health kind's section (devices that need a look), when it runs."""
    part = view.parts.get("health")
    return health_section(part) if part is not None and "health" in view.kinds else ""


def _isolation_checks(view: View) -> list[tuple[tuple[str, str, str], ProbeResult]]:
    """The isolation kind's last checks, when it runs ((vantage, unit, segment) → result)."""
    part = view.parts.get("isolation")
    return list(part.checks.items()) if part is not None else []
