"""The drift check without a network: categories, the comparison (the rollout's remediation per
segment scope), attribution from a real state store, the daemon config block, the metrics and
the status page section, and the CLI's bad input.

Running configs here are the rendered intent with the markers dropped and a hand change made,
as a device would show them; the lab tests (test_drift_lab.py) read them from devices over SSH.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.compliance.attribution import attribute
from govnet.compliance.categories import BY_KIND, CATEGORIES, CRITICAL, by_category, category
from govnet.compliance.check import DeviceCheck, SegmentDrift, UnitReport, compare
from govnet.inventory.loader import load
from govnet.metrics.page import render_page, status_json
from govnet.metrics.view import View
from govnet.monitor.drift import DriftJob
from govnet.monitor.state import Tracker
from govnet.render import render_device
from govnet.render.context import KINDS
from govnet.rollout.context import scoped_text
from govnet.rollout.remediate import remediate
from govnet.state import audit, backups
from govnet.state.db import connect, transaction
from tests.helpers import DATA, ROOT
from tests.monitor.daemonkit import Metrics

INVENTORY = load(DATA / "valid" / "minimal.yml").inventory
TEMPLATES = ROOT / "configs"


def running(unit: str, edit: Any = None) -> tuple[Any, str]:
    """(rendered intent, a device's running text: the intent without markers, edited)."""
    element = INVENTORY.element(unit)
    assert element is not None
    rendered = render_device(INVENTORY, element, element.device, TEMPLATES)
    lines = [
        line
        for line in rendered.text.splitlines()
        if not line.startswith(("# govnet part ", "! govnet part "))
    ]
    if edit is not None:
        lines = edit(lines)
    return rendered, "\n".join(lines) + "\n"


def test_every_part_kind_has_a_category_and_the_critical_ones_are_named() -> None:
    assert set(BY_KIND) == set(KINDS)
    assert set(BY_KIND.values()) == set(CATEGORIES)
    assert {"security-baseline", "party-isolation"} == CRITICAL
    assert category("baseline") == "security-baseline"
    assert category("party") == category("uplink") == "party-isolation"
    assert category("intranet") == category("extranet") == "access"
    with pytest.raises(ValueError, match="no drift category"):
        category("routing")
    assert by_category({}) == dict.fromkeys(CATEGORIES, (0, 0))


def test_a_compliant_device_is_clean_in_every_segment_scope() -> None:
    rendered, text = running("sz-fagaiwei")
    drifts, kinds, missing, extra = compare("huawei_vrp", text, rendered, ("intranet", "party", "extranet"))
    assert [d.compliant for d in drifts] == [True, True, True]
    assert (kinds, missing, extra) == ({}, (), ())


def test_an_intranet_plan_leaves_the_party_isolation_acl_alone() -> None:
    """Regression: the intranet scope used to remove the party ACL (an owned line) as extra."""
    rendered, text = running("sz-caizheng")
    fix = remediate("huawei_vrp", text, scoped_text(rendered, "intranet"))
    assert fix.empty, fix.commands


def test_a_removed_isolation_rule_is_party_isolation_drift_in_the_party_scope_only() -> None:
    rendered, text = running("sz-fagaiwei", lambda ls: [x for x in ls if not x.startswith(" rule 5 deny")])
    drifts, kinds, missing, _extra = compare("huawei_vrp", text, rendered, ("intranet", "party", "extranet"))
    by_segment = {d.segment: d for d in drifts}
    assert by_segment["intranet"].compliant and by_segment["extranet"].compliant
    assert not by_segment["party"].compliant
    assert by_category(kinds) == {"security-baseline": (0, 0), "party-isolation": (1, 0), "access": (0, 0)}
    assert missing == (
        "acl number 3990 > rule 5 deny ip source 10.112.0.0 0.0.255.255 destination 10.111.0.0 0.0.255.255",
    )
    # exactly what `rollout plan --segment party` would push
    assert (
        by_segment["party"].commands == remediate("huawei_vrp", text, scoped_text(rendered, "party")).commands
    )
    assert (
        "rule 5 deny ip source 10.112.0.0 0.0.255.255 destination 10.111.0.0 0.0.255.255"
        in by_segment["party"].commands
    )


def test_a_baseline_change_is_counted_once_though_every_scope_has_it() -> None:
    def edit(lines: list[str]) -> list[str]:
        return [x for x in lines if x != "undo telnet server enable"] + ["snmp-agent community read public"]

    rendered, text = running("sz-fagaiwei", edit)
    drifts, kinds, missing, extra = compare("huawei_vrp", text, rendered, ("intranet", "party", "extranet"))
    assert not any(d.compliant for d in drifts)
    assert by_category(kinds)["security-baseline"] == (1, 1)
    assert missing == ("undo telnet server enable",)
    assert extra == ("snmp-agent community read public",)
    assert by_category(kinds)["party-isolation"] == by_category(kinds)["access"] == (0, 0)


def test_a_changed_access_interface_is_access_drift() -> None:
    rendered, text = running(
        "sz-caizheng",
        lambda ls: [
            x.replace(" description govnet intranet sz-caizheng", " description hand-made") for x in ls
        ],
    )
    drifts, kinds, _, _ = compare("huawei_vrp", text, rendered, ("intranet", "party"))
    assert [d.segment for d in drifts if not d.compliant] == ["intranet"]
    assert set(c for c, n in by_category(kinds).items() if sum(n)) == {"access"}


def report(unit: str, state: str, **extra: Any) -> UnitReport:
    segments = tuple(s for s in ("intranet", "party", "extranet") if s in INVENTORY.element(unit).segments)  # type: ignore[union-attr]
    drifted = state == "drifted"
    device = DeviceCheck(
        unit,
        INVENTORY.element(unit).device.name,  # type: ignore[union-attr]
        "huawei_vrp",
        state,  # type: ignore[arg-type]
        time.time(),
        "cannot read the running config: connection refused" if state == "unknown" else "",
        tuple(SegmentDrift(s, ["x"] if drifted and s == "party" else [], [], []) for s in segments)
        if state != "unknown"
        else (),
        by_category({"party": (2, 1)} if drifted else {}) if state != "unknown" else {},
        ("a", "b") if drifted else (),
        ("c",) if drifted else (),
        **extra,
    )
    return UnitReport(unit, segments, (device,))


def test_metrics_and_status_page_show_drifted_and_unknown_units_never_as_compliant() -> None:
    view = View(INVENTORY, Tracker(INVENTORY, 2), "testcity")  # type: ignore[arg-type]
    DriftJob.record(
        view,
        [
            report("sz-fagaiwei", "drifted"),
            report("sz-caizheng", "compliant"),
            report("zl-wanjin", "compliant"),
        ],
    )
    DriftJob.record(view, [report("zl-wanjin", "unknown")])
    from govnet.metrics.http import render  # noqa: PLC0415

    metrics = Metrics.parse(render(view.snapshot()).plain().decode())
    assert metrics.get1("govnet_config_compliant", unit="sz-fagaiwei", segment="party") == 0.0
    assert metrics.get1("govnet_config_compliant", unit="sz-fagaiwei", segment="intranet") == 1.0
    assert metrics.get1("govnet_config_compliant", unit="sz-caizheng", segment="party") == 1.0
    assert metrics.select("govnet_config_compliant", unit="zl-wanjin") == []  # unknown: never 1
    assert metrics.get1("govnet_config_check_success", unit="zl-wanjin") == 0.0
    assert metrics.get1("govnet_config_last_check_timestamp_seconds", unit="zl-wanjin") is not None
    assert metrics.get1("govnet_config_drift_lines", unit="sz-fagaiwei", kind="party-isolation") == 3.0
    assert metrics.get1("govnet_config_drift_lines", unit="sz-fagaiwei", kind="security-baseline") == 0.0
    assert metrics.select("govnet_config_drift_lines", unit="zl-wanjin") == []
    page = render_page(view)
    assert 'id="drift"' in page and 'data-unit="sz-fagaiwei"' in page and "party-isolation" in page
    assert 'data-unit="zl-wanjin"' in page and "connection refused" in page
    assert "1 of 3 units compliant" in page
    assert {c["unit"]: c["state"] for c in status_json(view)["compliance"]} == {
        "sz-fagaiwei": "drifted",
        "sz-caizheng": "compliant",
        "zl-wanjin": "unknown",
    }
    assert [e["unit"] for e in view.events if e["kind"] == "compliance"] == ["zl-wanjin", "sz-fagaiwei"]


def applied(conn: sqlite3.Connection, state: Path, unit: str, device: str, left: str) -> str:
    """What govnet's apply run-1 records: the post-change backup of ``left`` and its verified entry."""
    with transaction(conn):
        after = backups.save(conn, unit, device, left, "post-change", "run-1").hash
    audit.append(conn, state, "verified", {"device": device, "after": after}, run_id="run-1", unit=unit)
    return after


def test_attribution_govnet_change_versus_outside_govnet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUDO_USER", "engineer-li")
    element = INVENTORY.element("sz-caizheng")
    assert element is not None
    device = element.device
    left_by_govnet, changed_by_hand = "sysname A\n", "sysname A\nsnmp-agent community read public\n"
    with connect(tmp_path) as conn:
        assert attribute(conn, element.id, device, changed_by_hand).origin == "outside govnet"
        applied(conn, tmp_path, element.id, device.name, left_by_govnet)
        mine = attribute(conn, element.id, device, left_by_govnet)
        assert (mine.origin, mine.user, mine.run, mine.action) == ("govnet", "engineer-li", "run-1", "apply")
        assert "by engineer-li" in mine.describe()
        with transaction(conn):
            backups.save(conn, element.id, device.name, changed_by_hand, "drift-check")
        theirs = attribute(conn, element.id, device, changed_by_hand)
        assert theirs.origin == "outside govnet"
        assert theirs.after is not None and theirs.before is not None and theirs.after <= theirs.before
        assert theirs.describe().startswith("outside govnet (between ")


VOLATILE = {  # one config shown twice by the same device: only the lines that change by themselves differ
    "huawei_vrp": (
        "2026-12-01 08:00:01.123+08:00\n#\nsysname A\n",
        "2026-12-06 09:30:44.871+08:00\n#\nsysname A\n",
    ),
    "h3c_comware": (
        "#\n version 7.1.070, Release 6328\n#\n sysname A\n",
        "#\n version 7.1.070, Release 6328P01\n#\n sysname A\n",
    ),
    "cisco_ios": (
        "hostname A\nntp clock-period 17179860\nend\n",
        "hostname A\nntp clock-period 17179871\nend\n",
    ),
}


@pytest.mark.parametrize("platform", sorted(VOLATILE))
def test_attribution_leaves_the_lines_that_change_by_themselves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    """The device still holds what govnet left, but its clock line moved: govnet's, not "outside"."""
    monkeypatch.setenv("SUDO_USER", "engineer-li")
    element = INVENTORY.element("sz-caizheng")
    assert element is not None
    device = element.device.model_copy(update={"platform": platform})
    left, shown_later = VOLATILE[device.platform]
    with connect(tmp_path) as conn:
        after = applied(conn, tmp_path, element.id, device.name, left)
        assert backups.text_hash(shown_later) != after
        mine = attribute(conn, element.id, device, shown_later)
        assert (mine.origin, mine.run, mine.action) == ("govnet", "run-1", "apply")
        theirs = attribute(conn, element.id, device, shown_later.replace(" A\n", " B\n"))
        assert theirs.origin == "outside govnet"


def write_config(tmp_path: Path, compliance: dict[str, Any]) -> Path:
    path = tmp_path / "daemon.yml"
    inventory = (DATA / "valid" / "minimal.yml").resolve()
    path.write_text(
        yaml.safe_dump(
            {
                "inventory": str(inventory),
                "allowed_networks": ["10.0.0.0/8", "172.16.0.0/12"],
                "compliance": compliance,
            },
            sort_keys=False,
        )
    )
    return path


def test_a_compliance_block_is_valid_and_its_templates_must_exist(
    govnet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")
    good = write_config(tmp_path, {"interval": 3600, "templates": str(TEMPLATES)})
    assert govnet("daemon", "--check", "--config", str(good)).code == 0
    bad = write_config(tmp_path, {"templates": str(tmp_path / "nowhere")})
    result = govnet("daemon", "--check", "--config", str(bad))
    assert result.code == 1
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "templates:" in text)
    assert result.err.strip() == f"{bad}:{line}: compliance.templates: no such folder: {tmp_path / 'nowhere'}"


def test_config_drift_bad_input(govnet: Any) -> None:
    unknown = govnet("config", "drift", "no-such-unit", "--inventory", str(DATA / "valid" / "minimal.yml"))
    assert (unknown.code, unknown.out, unknown.err.strip()) == (1, "", "govnet: unknown unit 'no-such-unit'")
    segment = govnet(
        "config", "drift", "--segment", "party-net", "--inventory", str(DATA / "valid" / "minimal.yml")
    )
    assert segment.code == 2 and "'party-net' is not one of" in segment.err and "Traceback" not in segment.err


def test_templates_the_daemon_cannot_look_at_are_one_line_not_a_traceback(
    govnet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``is_dir`` raises on a name too long (or a folder the daemon's user may not enter)."""
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")
    bad = write_config(tmp_path, {"templates": str(tmp_path / ("t" * 300))})
    result = govnet("daemon", "--check", "--config", str(bad))
    assert result.code == 1
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "templates:" in text)
    assert result.err.strip().startswith(f"{bad}:{line}: compliance.templates: cannot look at ")
    assert result.err.strip().endswith(": File name too long")
    assert "Traceback" not in result.err and "internal error" not in result.err
