"""The Prometheus rules govnet ships: valid for the real ``promtool``, proven by its unit tests,
consistent with what the daemon exports, the runbook and the shipped inventory.

``promtool test rules`` (exporters/prometheus/govnet.rules.test.yml) is where each alert is shown
to fire when it should and to stay silent when it should not; this module runs it and checks the
things promtool cannot: every alert is covered both ways by those tests, every metric a rule
reads is one the collector exports, every alert has a runbook section, and the provincial uplink
alert watches the uplink the inventory names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.inventory.loader import load
from tests.exporters.promkit import collector_metrics, metric_names, run_promtool
from tests.helpers import ROOT

EXPORTERS = ROOT / "exporters"
RULE_FILES = sorted(EXPORTERS.glob("**/*.rules.yml"))
TEST_FILES = sorted(EXPORTERS.glob("**/*.rules.test.yml"))
RUNBOOK = EXPORTERS / "RUNBOOK.md"
ALERTS = {
    "GovnetUnitDown",
    "GovnetSegmentDegraded",
    "GovnetPartyIsolationBreach",
    "GovnetProvincialUplinkDown",
    "GovnetDeviceRebooted",
    "GovnetInterfaceDown",
    "GovnetHighLoss",
    "GovnetHighLatency",
    "GovnetProberBlind",
    "GovnetConfigDriftCritical",
    "GovnetConfigDrift",
    "GovnetConfigUnknown",
    "GovnetAuditTrailRewritten",
    "GovnetUplinkErrorsRising",
    "GovnetUplinkSaturated",
    "GovnetOpticsOutOfRange",
    "GovnetDeviceCpuHigh",
    "GovnetDeviceTemperatureHigh",
    "GovnetDeviceFanFailed",
    "GovnetDevicePowerSupplyFailed",
    "GovnetDeviceNotInInventory",
}


def rules() -> list[dict[str, Any]]:
    out = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            out.extend(group["rules"])
    return out


def test_rule_files_are_found() -> None:
    assert RULE_FILES, "no exporters/**/*.rules.yml"
    assert TEST_FILES, "no exporters/**/*.rules.test.yml"
    assert {r["alert"] for r in rules() if "alert" in r} == ALERTS


@pytest.mark.lab
def test_promtool_check_rules_is_clean() -> None:
    result = run_promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.lab
@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(test_file: Path) -> None:
    result = run_promtool("test", "rules", test_file.name, cwd=test_file.parent, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_firing_and_silent() -> None:
    fired: set[str] = set()
    silent: set[str] = set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else silent).add(check["alertname"])
    assert ALERTS - fired == set(), "alerts never shown to fire"
    assert ALERTS - silent == set(), "alerts never shown to stay silent"


def test_every_alert_has_severity_and_a_runbook_section() -> None:
    anchors = {_anchor(line[3:]) for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")}
    for rule in rules():
        if "alert" not in rule:
            continue
        assert rule["labels"]["severity"], rule["alert"]
        assert "critical" in rule["labels"]["severity"] or rule["labels"]["severity"] == "warning"
        runbook = rule["annotations"]["runbook_url"]
        path, _, anchor = runbook.partition("#")
        assert (ROOT / path) == RUNBOOK, runbook
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in RUNBOOK.md"
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_party_isolation_breach_is_critical_and_immediate() -> None:
    (breach,) = [r for r in rules() if r.get("alert") == "GovnetPartyIsolationBreach"]
    assert breach["labels"]["severity"] == "critical"
    assert breach["for"] in ("0m", "0s")


def test_unit_down_alerts_on_down_only_and_carries_the_parent() -> None:
    (down,) = [r for r in rules() if r.get("alert") == "GovnetUnitDown"]
    assert 'govnet_unit_state{state="down"}' in down["expr"]
    assert "unreachable" not in down["expr"]
    assert "group_left (name, kind, parent)" in down["expr"]


def test_rules_read_only_metrics_the_collector_exports() -> None:
    exported = collector_metrics()
    recorded = {r["record"] for r in rules() if "record" in r}
    for rule in rules():
        for name in metric_names(rule["expr"]):
            assert name in exported | recorded, f"{rule.get('alert') or rule.get('record')}: {name}"


def test_provincial_uplink_alert_watches_the_inventory_uplink() -> None:
    inventory = load(ROOT / "inventory").inventory
    (uplink,) = [u for u in inventory.uplinks if u.segment == "party"]
    (rule,) = [r for r in rules() if r.get("alert") == "GovnetProvincialUplinkDown"]
    assert f'unit="{uplink.node}"' in rule["expr"]
    assert f'ifname="{uplink.interface}"' in rule["expr"]
    assert rule["labels"]["uplink"] == uplink.id


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, spaces to dashes, punctuation dropped."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
