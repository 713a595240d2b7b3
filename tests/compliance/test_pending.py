"""Pending is not drift: a part govnet has never applied to a unit is *pending rollout* — in the
state decision, the metrics and the status page — while a part it applied that changed is drift.

What govnet applied is read from a real state store (runs recorded as `rollout apply` records
them); running configs are the rendered intent with parts left out or edited, as in
test_compliance_units.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from govnet.compliance.check import DeviceCheck, UnitReport, compare, judge
from govnet.compliance.pending import applied_kinds, applied_segments
from govnet.metrics.http import render
from govnet.metrics.page import render_page, status_json
from govnet.metrics.view import View
from govnet.monitor.drift import DriftJob
from govnet.monitor.state import Tracker
from govnet.render import render_device
from govnet.rollout import runs
from govnet.state.db import connect
from tests.compliance.test_compliance_units import INVENTORY, TEMPLATES
from tests.monitor.daemonkit import Metrics

UNIT = "sz-fagaiwei"
SEGMENTS = ("intranet", "party", "extranet")


def device_text(unit: str, without: tuple[str, ...] = (), edit: Any = None) -> tuple[Any, str]:
    """(rendered intent, a running config holding every part but the kinds ``without``)."""
    element = INVENTORY.element(unit)
    assert element is not None
    rendered = render_device(INVENTORY, element, element.device, TEMPLATES)
    lines, kind = [], ""
    for line in rendered.text.splitlines():
        if line.startswith(("# govnet part ", "! govnet part ")):
            kind = line.split()[3]
        elif kind not in without:
            lines.append(line)
    if edit is not None:
        lines = edit(lines)
    return rendered, "\n".join(lines) + "\n"


def applied_in_store(state: Path, unit: str, *results: tuple[str, str, str]) -> set[str]:
    """Record runs as `rollout apply` does — (kind, segment, result) each — and read them back."""
    device = INVENTORY.element(unit).device.name  # type: ignore[union-attr]
    with connect(state) as conn:
        for kind, segment, result in results:
            run_id = runs.create(conn, kind, None, None, {"segment": segment}, {}, [(unit, device, 0, [])])
            runs.set_phase(conn, run_id, unit, device, "done", result=result)
        return applied_segments(conn, unit, device)


def verdict(applied: set[str], without: tuple[str, ...] = (), edit: Any = None) -> Any:
    rendered, text = device_text(UNIT, without, edit)
    drifts, kinds, _, _ = compare("huawei_vrp", text, rendered, SEGMENTS)
    return judge(drifts, kinds, applied)


def test_the_store_says_which_segments_govnet_applied(tmp_path: Path) -> None:
    assert applied_in_store(tmp_path / "empty", UNIT) == set()
    found = applied_in_store(
        tmp_path / "s",
        UNIT,
        ("apply", "party", "changed"),  # verified
        ("apply", "extranet", "ok"),  # already in place: govnet confirmed it
        ("apply", "intranet", "failed"),  # restored: never in place
        ("rollback", "intranet", "restored"),  # a rollback applies no intent
    )
    assert found == {"party", "extranet"}
    assert applied_kinds(found) == {"baseline", "party", "uplink", "extranet"}


def test_a_part_never_applied_is_pending_not_drifted() -> None:
    result = verdict(set(), without=("intranet", "extranet"))
    assert result.state == "pending"
    assert (result.missing, result.extra) == ((), ())
    assert set(result.pending) == {"intranet", "extranet"} and result.drifted == {}
    assert [s.segment for s in result.segments if s.pending] == ["intranet", "extranet"]


def test_an_applied_part_that_changed_is_drifted() -> None:
    def edit(lines: list[str]) -> list[str]:
        return [x for x in lines if not x.startswith(" rule 5 deny")]

    result = verdict({"intranet", "party", "extranet"}, edit=edit)
    assert result.state == "drifted"
    assert set(result.drifted) == {"party"} and result.pending == {}
    assert len(result.missing) == 1 and result.missing[0].startswith("acl number 3990 > rule 5 deny")


def test_baseline_applied_with_the_party_part_but_intranet_never_makes_intranet_pending(
    tmp_path: Path,
) -> None:
    applied = applied_in_store(tmp_path, UNIT, ("apply", "party", "changed"))
    result = verdict(applied, without=("intranet", "extranet"))
    assert result.state == "pending"
    assert set(result.pending) == {"intranet", "extranet"}
    assert [s.segment for s in result.segments if not s.compliant] == ["intranet", "extranet"]
    # the baseline came with the party rollout: a hand change to it is drift, the intranet still pending
    changed = verdict(
        applied, without=("intranet", "extranet"), edit=lambda ls: [*ls, "telnet server enable"]
    )
    assert changed.state == "drifted"
    assert set(changed.drifted) == {"baseline"} and set(changed.pending) == {"intranet", "extranet"}
    assert changed.extra == ("telnet server enable",)


def test_pending_units_are_counted_apart_never_as_drift_on_metrics_and_page() -> None:
    result = verdict({"party"}, without=("intranet", "extranet"))
    device = INVENTORY.element(UNIT).device.name  # type: ignore[union-attr]
    check = DeviceCheck(
        UNIT, device, "huawei_vrp", result.state, time.time(), "", result.segments, pending={"access": (7, 0)}
    )
    view = View(INVENTORY, Tracker(INVENTORY, 2), "testcity")  # type: ignore[arg-type]
    DriftJob.record(view, [UnitReport(UNIT, SEGMENTS, (check,))])
    metrics = Metrics.parse(render(view.snapshot()).plain().decode())
    assert metrics.get1("govnet_config_pending", unit=UNIT, segment="intranet") == 1.0
    assert metrics.get1("govnet_config_pending", unit=UNIT, segment="party") == 0.0
    assert metrics.get1("govnet_config_pending_lines", unit=UNIT, kind="access") == 7.0
    assert metrics.get1("govnet_config_drift_lines", unit=UNIT, kind="access") == 0.0
    assert metrics.get1("govnet_config_compliant", unit=UNIT, segment="party") == 1.0
    (entry,) = status_json(view)["compliance"]
    assert entry["state"] == "pending" and entry["pending"] == ["access"] and entry["drifted"] == []
    page = render_page(view)
    assert "pending rollout" in page and "no change by govnet" not in page
    assert f'data-unit="{UNIT}" data-state="pending"' in page
    assert "0 of 1 units compliant, 1 pending rollout" in page
