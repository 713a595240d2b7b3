"""The contacts in the generated Alertmanager configuration: who is reached by which route, each
receiver's channels, the WeChat Work secret only in a private file, and the real ``amtool``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.export import alertmanager
from govnet.inventory.contacts import reach
from govnet.inventory.loader import load
from tests.export.test_alertmanager_config import TEMPLATES, check_config
from tests.helpers import DATA

CONTACTS = DATA / "valid" / "contacts.yml"


def secrets_for(tmp: Path) -> Path:
    """contacts.yml with its secrets in ``tmp`` (absolute file: references)."""
    folder = tmp / "secrets"
    folder.mkdir()
    for name in ("wechat", "dingtalk-token", "dingtalk-secret"):
        (folder / name).write_text(f"value-of-{name}\n")
        (folder / name).chmod(0o600)
    path = tmp / "inventory.yml"
    path.write_text(CONTACTS.read_text().replace("file:secrets/", f"file:{folder}/"))
    return path


def generated(tmp: Path) -> dict[str, Any]:
    inv = load(secrets_for(tmp)).inventory
    text = alertmanager.render(inv, alertmanager.ExportOptions(), "inventory.yml", lambda ref: f"<{ref}>")
    return dict(yaml.safe_load(text))


def test_contact_routes_come_first_and_continue_to_the_on_call(tmp_path: Path) -> None:
    config = generated(tmp_path)
    routes = config["route"]["routes"]
    contact = [r for r in routes if r["receiver"].startswith("contact-")]
    assert routes[: len(contact)] == contact, "contacts before the on-call's routes"
    assert all(r["continue"] is True and r["group_by"] == ["alertname", "unit"] for r in contact)
    assert routes[len(contact)]["matchers"] == ['alertname="GovnetPartyIsolationBreach"']
    matched = {(r["receiver"], tuple(r["matchers"][1:])) for r in contact}
    assert matched == {
        ("contact-noc", ()),
        ("contact-party-security", ('unit=~"sz-fagaiwei"',)),
        ("contact-party-security", ('segment=~"party"', 'unit!~"sz-fagaiwei"')),
        ("contact-fgw-it", ('unit=~"sz-fagaiwei"',)),
        ("contact-shizhi-noc", ('unit=~"agg-shizhi|sz-fagaiwei"',)),
    }


def test_each_contact_s_receiver_holds_its_channels(tmp_path: Path) -> None:
    config = generated(tmp_path)
    by_name = {r["name"]: r for r in config["receivers"]}
    (wechat,) = by_name["contact-party-security"]["wechat_configs"]
    assert wechat["to_user"] == "wangfang" and wechat["agent_id"] == "1000002"
    assert wechat["api_secret"] == f"<file:{tmp_path}/secrets/wechat>"
    assert wechat["message"] == '{{ template "govnet.wechat.message" . }}' and wechat["send_resolved"]
    (hook,) = by_name["contact-party-security"]["webhook_configs"]
    assert hook["url"] == "http://127.0.0.1:9432/notify/party-security"
    assert set(by_name["contact-fgw-it"]) == {"name", "email_configs", "webhook_configs"}
    assert by_name["contact-fgw-it"]["email_configs"][0]["to"] == "liming@example.gov.cn"
    assert by_name["contact-shizhi-noc"]["wechat_configs"][0]["to_party"] == "2|3"
    assert "webhook_configs" not in by_name["contact-shizhi-noc"]
    assert "http_config" not in hook, "no token asked for, none sent"
    assert config["templates"] == [alertmanager.DEFAULT_TEMPLATES]
    assert config["global"]["smtp_smarthost"] == "127.0.0.1:25"


def test_the_bridge_token_is_read_by_alertmanager_from_its_file(tmp_path: Path) -> None:
    inv = load(secrets_for(tmp_path)).inventory
    options = alertmanager.ExportOptions(bridge_token_file="/etc/govnet/bridge-token")
    config = alertmanager.config(inv, options, lambda ref: "x")
    hooks = [
        h
        for r in config["receivers"]
        if r["name"].startswith("contact-")
        for h in r.get("webhook_configs", [])
    ]
    assert len(hooks) == 2
    for hook in hooks:
        assert hook["http_config"] == {
            "authorization": {"type": "Bearer", "credentials_file": "/etc/govnet/bridge-token"}
        }


def test_groups_and_defaults_name_contacts_like_any_key(tmp_path: Path) -> None:
    text = CONTACTS.read_text().replace(
        "    device: {platform: huawei_vrp, uplink: GigabitEthernet0/0/24}\n",
        "    device: {platform: huawei_vrp, uplink: GigabitEthernet0/0/24}\n    contacts: [fgw-it]\n",
    )
    text = text.replace("    contacts: [fgw-it, party-security]\n", "")
    path = tmp_path / "inventory.yml"
    path.write_text(text)
    found = {r.contact: r for r in reach(load(path).inventory)}
    # sz-caizheng is in the huawei group; sz-fagaiwei too (its own list is gone)
    assert found["fgw-it"].elements == ("sz-caizheng", "sz-fagaiwei")
    assert found["party-security"].elements == () and found["party-security"].segments == ("party",)


def test_an_inventory_without_contacts_changes_nothing() -> None:
    inv = load(DATA / "valid" / "minimal.yml").inventory
    assert not inv.contacts
    assert not any(r["receiver"].startswith("contact-") for r in alertmanager.route(inv)["routes"])


def test_the_secret_is_written_to_a_private_file_only(govnet: Any, tmp_path: Path) -> None:
    inventory = secrets_for(tmp_path)
    printed = govnet("export", "alertmanager", "--inventory", str(inventory))
    assert printed.code == 2 and printed.out == "" and "value-of-wechat" not in printed.err
    out = tmp_path / "alertmanager.yml"
    written = govnet("export", "alertmanager", "--inventory", str(inventory), "--out", str(out))
    assert written.code == 0, written.err
    assert (out.stat().st_mode & 0o777) == 0o600
    assert "api_secret: value-of-wechat" in out.read_text() and "value-of-dingtalk" not in out.read_text()


@pytest.mark.lab
def test_contacts_config_passes_amtool(govnet: Any, tmp_path: Path) -> None:
    inventory = secrets_for(tmp_path)
    out = tmp_path / "alertmanager.yml"
    result = govnet(
        *("export", "alertmanager", "--inventory", str(inventory), "--out", str(out)),
        *("--templates", str(TEMPLATES / "*.tmpl"), "--wechat-api-url", "http://127.0.0.1:9/cgi-bin/"),
    )
    assert result.code == 0, result.err
    report = check_config(out)
    assert "13 receivers" in report and "1 templates" in report
