"""A unit's alert reaches its contacts where they read it, and the on-call too, with real binaries:
a fixed /metrics page (two units down) → prometheus (the shipped rules) → alertmanager (the
configuration `govnet export alertmanager` writes for tests/data/valid/contacts.yml) → WeChat Work,
e-mail, and `govnet alert-bridge` (a real process) → DingTalk and SMS; every endpoint a loopback
stand-in (tests/export/standins.py), the DingTalk one checking the signature as DingTalk does.

sz-fagaiwei (behind agg-shizhi) is down on the intranet: its contacts are fgw-it (DingTalk,
e-mail), party-security (WeChat Work to a user, SMS), shizhi-noc (its node's: WeChat Work to a
party) and noc (the site's: e-mail). sz-caizheng is down too: only noc answers for it. Route
``group_wait`` is cut to 1 s (the only change to the generated file) so the test takes seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from tests.export.amkit import Alertmanager, Webhook, webhook_receiver
from tests.export.standins import (
    Received,
    decoded_mail,
    dingtalk_answer,
    http_standin,
    metrics_standin,
    sms_answer,
    smtp_standin,
    wechat_answer,
)
from tests.exporters.exportlab import until
from tests.exporters.promkit import Prometheus, lab_speed_rules, prometheus_config
from tests.helpers import DATA, ROOT

T = TypeVar("T")
SECRETS = {"wechat": "wechat-app-secret-1", "dingtalk-token": "robot-token-2", "dingtalk-secret": "SEC-3"}
UNIT, OTHER = "sz-fagaiwei", "sz-caizheng"
BRIDGE_TOKEN = "bridge-bearer-4"
"""Alertmanager sends it to the bridge (credentials_file), the bridge refuses requests without it."""
METRICS = f"""\
govnet_unit_state{{segment="intranet",unit="{UNIT}",state="down"}} 1
govnet_unit_state{{segment="intranet",unit="{OTHER}",state="down"}} 1
govnet_unit_path_last_hop_info{{segment="intranet",unit="{UNIT}",hop="10.111.251.1",hops="2"}} 1
govnet_unit_path_last_hop_info{{segment="intranet",unit="{OTHER}",hop="10.111.250.1",hops="1"}} 1
govnet_unit_info{{unit="{UNIT}",name="测试市发展和改革委员会",kind="bureau",parent="agg-shizhi"}} 1
govnet_unit_info{{unit="{OTHER}",name="测试市财政局",kind="bureau",parent="core-city"}} 1
"""


@dataclass
class Stack:
    oncall: Webhook
    wechat: Received
    dingtalk: Received
    sms: Received
    smtp: Received
    bridge_log: Path


def inventory_for(tmp: Path, dingtalk: Received, sms: Received) -> Path:
    """contacts.yml with its secret files in ``tmp`` (0600) and its endpoints the stand-ins."""
    secrets = tmp / "secrets"
    secrets.mkdir()
    for name, value in SECRETS.items():
        (secrets / name).write_text(value + "\n")
        (secrets / name).chmod(0o600)
    text = (DATA / "valid" / "contacts.yml").read_text()
    text = text.replace("file:secrets/", f"file:{secrets}/")
    text = text.replace("http://127.0.0.1:9099/sms", f"{sms.base}/sms")
    text = text.replace("dingtalk: {token:", f"dingtalk: {{url: '{dingtalk.base}/robot/send', token:")
    path = tmp / "inventory.yml"
    path.write_text(text)
    return path


def export(
    tmp: Path, inventory: Path, oncall: Webhook, wechat: Received, smtp: Received, bridge: str
) -> Path:
    out = tmp / "alertmanager.yml"
    argv = [
        *("export", "alertmanager", "--inventory", str(inventory), "--out", str(out)),
        *(
            "--receiver-url",
            oncall.url,
            "--bridge-url",
            bridge,
            "--wechat-api-url",
            f"{wechat.base}/cgi-bin/",
        ),
        *(
            "--smtp-smarthost",
            f"127.0.0.1:{smtp.address[1]}",
            "--templates",
            str(ROOT / "exporters/alertmanager/*.tmpl"),
        ),
        f"--bridge-token-file={inventory.parent / 'bridge-token'}",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "govnet", *argv], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (out.stat().st_mode & 0o777) == 0o600, "a configuration holding a WeChat Work secret is private"
    config = yaml.safe_load(out.read_text())

    def quick(route: dict[str, Any]) -> None:
        route["group_wait"] = "1s"
        for child in route.get("routes", []):
            quick(child)

    quick(config["route"])
    out.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("contacts")
    with (
        webhook_receiver() as oncall,
        http_standin(wechat_answer(SECRETS["wechat"])) as wechat,
        http_standin(dingtalk_answer(SECRETS["dingtalk-token"], SECRETS["dingtalk-secret"])) as dingtalk,
        http_standin(sms_answer) as sms,
        smtp_standin() as smtp,
        metrics_standin(METRICS) as metrics,
    ):
        inventory = inventory_for(tmp, dingtalk, sms)
        log = tmp / "bridge.log"
        bridge = start_bridge(inventory, log)
        started: list[Any] = []
        try:
            url = bridge_url(log)
            am = Alertmanager(export(tmp, inventory, oncall, wechat, smtp, url), tmp)
            started.append(am)
            rules = lab_speed_rules(tmp)
            started.append(
                Prometheus(prometheus_config(tmp, f"127.0.0.1:{metrics.address[1]}", rules, am.address), tmp)
            )
            yield Stack(oncall, wechat, dingtalk, sms, smtp, log)
        finally:
            for process in reversed(started):
                process.stop()
            bridge.terminate()
            bridge.wait(timeout=10)


def start_bridge(inventory: Path, log: Path) -> subprocess.Popen[bytes]:
    token = inventory.parent / "bridge-token"
    token.write_text(BRIDGE_TOKEN)
    token.chmod(0o600)
    argv = [sys.executable, "-m", "govnet", "alert-bridge", "--inventory", str(inventory)]
    argv += ["--listen", "127.0.0.1:0", "--timeout", "2", "--token", f"file:{token}"]
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"}
        )


def bridge_url(log: Path) -> str:
    line = until(
        lambda: next((x for x in log.read_text().splitlines() if "listening on" in x), None), 20, "bridge up"
    )
    return line.split("listening on ", 1)[1].split("/notify/", 1)[0]


def at_least(count: int, items: list[T]) -> list[T] | None:
    return list(items) if len(items) >= count else None


def delivered(log: Path, count: int) -> str | None:
    text = log.read_text()
    return text if text.count(" delivered") >= count else None


def test_the_unit_s_contacts_and_the_on_call_are_told(stack: Stack) -> None:
    s = stack
    start = time.monotonic()
    note = until(lambda: s.oncall.first(0, "GovnetUnitDown", UNIT), 60, f"on-call: {UNIT} down")
    assert note.body["receiver"] == "govnet-intranet"
    wechat = until(lambda: at_least(2, s.wechat.requests), 30, "two WeChat Work messages")
    talk = until(lambda: s.dingtalk.requests, 30, "a DingTalk message")
    texts = until(lambda: s.sms.requests, 30, "an SMS")
    mails = until(lambda: at_least(2, s.smtp.mails), 30, "two e-mails")
    print(f"\nunit down -> on-call, WeChat, DingTalk, SMS, e-mail within {time.monotonic() - start:.1f} s")

    addressed = sorted(str(b.get("touser") or b.get("toparty")) for _, b in wechat)
    assert addressed == ["2|3", "wangfang"], addressed
    for _, body in wechat:
        assert body["msgtype"] == "text" and UNIT in body["text"]["content"]
        assert "链路中断" in body["text"]["content"], body["text"]["content"]
    assert s.wechat.refused == [] and s.dingtalk.refused == [], (s.wechat.refused, s.dingtalk.refused)

    (_, robot), *_ = talk
    assert robot["msgtype"] == "markdown" and UNIT in robot["markdown"]["text"]
    assert "单位 unit: 测试市发展和改革委员会 (sz-fagaiwei)" in robot["markdown"]["text"]
    assert OTHER not in robot["markdown"]["text"], "fgw-it answers for sz-fagaiwei only"
    assert "CST" in robot["markdown"]["text"], "times in the site's zone (Asia/Shanghai), zone shown"

    (_, sms), *_ = texts
    assert sms["to"] == ["13800000001"] and "链路中断" in sms["text"]

    by_rcpt = {rcpt: decoded_mail(raw) for _, rcpts, raw in mails for rcpt in rcpts}
    assert UNIT in by_rcpt["liming@example.gov.cn"] and OTHER not in by_rcpt["liming@example.gov.cn"]
    assert "noc@example.gov.cn" in by_rcpt


def test_the_site_s_contact_hears_about_every_unit(stack: Stack) -> None:
    def noc_told_of_other() -> bool:
        return any(
            "noc@example.gov.cn" in rcpts and OTHER in decoded_mail(raw) for _, rcpts, raw in stack.smtp.mails
        )

    until(noc_told_of_other, 60, f"noc's e-mail about {OTHER}")
    assert until(lambda: stack.oncall.first(0, "GovnetUnitDown", OTHER), 30, f"on-call: {OTHER} down")


def test_the_bridge_logs_one_line_per_delivery_and_no_secret(stack: Stack) -> None:
    until(lambda: stack.sms.requests and stack.dingtalk.requests, 60, "bridge deliveries")
    text = until(lambda: delivered(stack.bridge_log, 2), 20, "two delivery lines")
    lines = [x for x in text.splitlines() if "contact=" in x]
    assert any(
        "contact=fgw-it channel=dingtalk status=firing" in x and "attempts=1 delivered" in x for x in lines
    )
    assert any("contact=party-security channel=sms status=firing" in x for x in lines), lines
    for value in [*SECRETS.values(), BRIDGE_TOKEN]:
        assert value not in text
    assert "sign=" not in text and "access_token" not in text
