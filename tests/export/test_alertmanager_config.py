"""``govnet export alertmanager``: the generated configuration is valid for the real ``amtool``,
for the shipped inventory and for a lab twin's inventory, and its inhibit rules follow the
topology (one per node with something behind it; every unit is covered by its parent's rule).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.export import alertmanager
from govnet.inventory.loader import load
from govnet.lab.site import choose_units, lab_inventory, lab_units
from govnet.lab.topology import build_tree
from tests.helpers import ROOT, need

INVENTORY = ROOT / "inventory"
TEMPLATES = ROOT / "exporters" / "alertmanager"
DEPLOYED = ROOT / "deploy" / "alertmanager.yml"
DEPLOY_WEBHOOK = "http://127.0.0.1:5001/govnet"
TEMPLATE_NAMES = ("govnet.email.subject", "govnet.email.text", "govnet.email.html", "govnet.wechat.message")


def amtool() -> str:
    path = shutil.which("amtool")
    need(path is not None, "amtool is not installed (Debian package prometheus-alertmanager)")
    assert path is not None
    return path


def check_config(path: Path) -> str:
    result = subprocess.run(
        [amtool(), "check-config", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def export(govnet: Any, *args: str) -> Any:
    result = govnet("export", "alertmanager", *args)
    assert result.code == 0, result.err
    return result


@pytest.fixture(scope="module")
def lab_inventory_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The inventory `govnet lab up` would write for 24 units (built without namespaces)."""
    inv = load(INVENTORY).inventory
    chosen = lab_units(inv, choose_units(inv, 24))
    topology = build_tree(
        "amtest", [(u.node, u.agg_node, u.segments) for u in chosen], network="198.18.0.0/17"
    )
    tmp = tmp_path_factory.mktemp("lab-inventory")
    data = lab_inventory(inv, chosen, topology, tmp / "secrets")
    path = tmp / "inventory.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    load(path)
    return path


@pytest.mark.lab
def test_shipped_inventory_config_passes_amtool(govnet: Any, tmp_path: Path) -> None:
    out = tmp_path / "alertmanager.yml"
    result = export(govnet, "--inventory", str(INVENTORY), "--out", str(out))
    assert "12 receivers, 11 inhibit rules" in result.err  # 9 + the site's three contacts
    report = check_config(out)
    assert "11 inhibit rules" in report and "12 receivers" in report
    receivers = {r["name"]: r for r in yaml.safe_load(out.read_text())["receivers"]}
    assert receivers["contact-noc"]["email_configs"][0]["to"] == "noc@xxb.luohe.gov.cn"
    assert receivers["contact-party-security"]["webhook_configs"][0]["url"].endswith("/notify/party-security")


def test_stdout_is_the_same_configuration(govnet: Any, tmp_path: Path) -> None:
    out = tmp_path / "a.yml"
    export(govnet, "--inventory", str(INVENTORY), "--out", str(out))
    printed = export(govnet, "--inventory", str(INVENTORY)).out
    assert printed == out.read_text()


def test_lab_inventory_config_passes_amtool(govnet: Any, lab_inventory_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "alertmanager.yml"
    export(govnet, "--inventory", str(lab_inventory_file), "--out", str(out))
    check_config(out)
    config = yaml.safe_load(out.read_text())
    inv = load(lab_inventory_file).inventory
    aggs = {u.parent for u in inv.units}
    sources = {_value(r["source_matchers"], "unit") for r in config["inhibit_rules"]}
    assert aggs <= sources


@pytest.mark.lab
def test_email_receivers_and_templates_pass_amtool(govnet: Any, tmp_path: Path) -> None:
    out = tmp_path / "alertmanager.yml"
    export(
        govnet,
        "--receiver-url",
        "https://alerts.example.gov.cn/hook",
        "--email",
        "noc@example.gov.cn",
        "--email",
        "duty@example.gov.cn",
        "--smtp-smarthost",
        "smtp.example.gov.cn:587",
        "--templates",
        str(TEMPLATES / "*.tmpl"),
        "--out",
        str(out),
    )
    check_config(out)
    config = yaml.safe_load(out.read_text())
    assert config["global"]["smtp_smarthost"] == "smtp.example.gov.cn:587"
    on_call = [r for r in config["receivers"][1:] if not r["name"].startswith("contact-")]
    assert len(on_call) == 8
    for receiver in on_call:
        (mail,) = receiver["email_configs"]
        assert mail["to"] == "noc@example.gov.cn, duty@example.gov.cn"
        assert "govnet.email.subject" in mail["headers"]["Subject"]
        assert receiver["webhook_configs"][0]["url"] == "https://alerts.example.gov.cn/hook"


@pytest.mark.lab
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_email_templates_render(name: str) -> None:
    result = subprocess.run(
        [
            amtool(),
            "template",
            "render",
            f"--template.glob={TEMPLATES / '*.tmpl'}",
            f'--template.text={{{{ template "{name}" . }}}}',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "<no value>" not in result.stdout


def test_null_receiver_is_quoted_and_non_govnet_alerts_go_there() -> None:
    text = alertmanager.render(load(INVENTORY).inventory, alertmanager.ExportOptions(), "inventory")
    assert "receiver: 'null'" in text and "- name: 'null'" in text
    config = yaml.safe_load(text)
    assert config["route"]["receiver"] == "null"
    assert all(
        'alertname="Govnet' in r["matchers"][0] or "Govnet.+" in r["matchers"][0]
        for r in config["route"]["routes"]
    )


def test_routes_isolation_first_and_immediate_then_segments() -> None:
    config = alertmanager.config(load(INVENTORY).inventory, alertmanager.ExportOptions())
    every = config["route"]["routes"]
    contacts = [r for r in every if r["receiver"].startswith("contact-")]
    assert every[: len(contacts)] == contacts and all(r["continue"] for r in contacts)  # they hear, then on
    routes = every[len(contacts) :]
    first = routes[0]
    assert first["matchers"] == ['alertname="GovnetPartyIsolationBreach"']
    assert first["receiver"] == "govnet-critical" and first["group_wait"] == "0s"
    nodes = routes[1]
    assert nodes["matchers"] == ['alertname="GovnetUnitDown"', 'kind=~"aggregation|core"']
    assert nodes["receiver"] == "govnet-critical" and nodes["group_by"] == ["alertname", "unit"]
    segments = [r["matchers"][1] for r in routes[2:-1]]
    assert segments == ['segment="intranet"', 'segment="party"', 'segment="extranet"']
    for segment_route in routes[2:-1]:
        (critical,) = segment_route["routes"]
        assert critical["matchers"] == ['severity="critical"']
        assert critical["receiver"].endswith("-critical")
    names = {r["name"] for r in config["receivers"]}
    assert {r["receiver"] for r in routes} <= names


def test_inhibition_follows_the_topology() -> None:
    inv = load(INVENTORY).inventory
    rules = alertmanager.config(inv, alertmanager.ExportOptions())["inhibit_rules"]
    by_source = {
        _value(r["source_matchers"], "unit"): r for r in rules if _value(r["source_matchers"], "unit")
    }
    aggregation = {n.id for n in inv.nodes if n.kind == "aggregation"}
    assert set(by_source) == aggregation | {"core-city"}
    for node in aggregation:
        rule = by_source[node]
        assert rule["target_matchers"] == ['alertname="GovnetUnitDown"', f'parent=~"{node}"']
        assert rule["equal"] == ["segment"]
    core_targets = set(_value(by_source["core-city"]["target_matchers"], "parent").split("|"))
    assert core_targets == aggregation | {"core-city"}
    for unit in inv.units:
        assert unit.parent in by_source, unit.id
    text = alertmanager.render(inv, alertmanager.ExportOptions(), "inventory")
    assert "# 市直汇聚节点A (agg-shizhi-a, aggregation) down: 48 unit(s)" in text


def test_deployed_config_is_the_generated_one() -> None:
    expected = alertmanager.render(
        load(INVENTORY).inventory, alertmanager.ExportOptions(webhook_url=DEPLOY_WEBHOOK), "inventory"
    )
    assert DEPLOYED.read_text() == expected, (
        "regenerate: govnet export alertmanager --out deploy/alertmanager.yml"
    )


def test_bad_receiver_url_is_a_usage_error(govnet: Any) -> None:
    result = govnet(
        "export", "alertmanager", "--inventory", str(INVENTORY), "--receiver-url", "127.0.0.1:5001"
    )
    assert result.code == 2
    assert (
        result.err.strip()
        == "govnet: --receiver-url: must be an http:// or https:// URL, got '127.0.0.1:5001'"
    )


def test_bad_inventory_is_reported_not_raised(govnet: Any, tmp_path: Path) -> None:
    bad = tmp_path / "inv.yml"
    bad.write_text("site: {}\n")
    result = govnet("export", "alertmanager", "--inventory", str(bad))
    assert result.code == 1 and "Traceback" not in result.err
    assert re.search(r"inv\.yml:\d+:", result.err)


def _value(matchers: list[str], name: str) -> str:
    for item in matchers:
        match = re.fullmatch(rf'{name}=~?"(.*)"', item)
        if match:
            return match.group(1)
    return ""
