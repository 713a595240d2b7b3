"""The alert bridge over real HTTP on loopback: Alertmanager's webhook in, a DingTalk robot stand-in
that checks the signature and an SMS gateway stand-in out; retries, final failures, timeouts,
refused requests, and the log line of each delivery (never a secret)."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from govnet.inventory.loader import load
from govnet.notify.bridge import Bridge, serve
from govnet.notify.channels import Policy
from govnet.secrets import SecretResolver
from tests.export.standins import Received, dingtalk_answer, http_standin
from tests.helpers import DATA
from tests.notify.test_messages import payload

TOKEN, SECRET = "robot-token-x", "SEC-robot-y"


@dataclass
class Rig:
    robot: Received
    gateway: Received
    url: str
    gateway_answers: list[int]
    """HTTP codes the gateway gives, in turn (then 200)."""


def inventory(tmp: Path, robot: Received, gateway: Received) -> Path:
    secrets = tmp / "secrets"
    secrets.mkdir()
    for name, value in {"dingtalk-token": TOKEN, "dingtalk-secret": SECRET, "wechat": "w"}.items():
        (secrets / name).write_text(value)
        (secrets / name).chmod(0o600)
    text = (DATA / "valid" / "contacts.yml").read_text().replace("file:secrets/", f"file:{secrets}/")
    text = text.replace("http://127.0.0.1:9099/sms", f"{gateway.base}/sms")
    text = text.replace("dingtalk: {token:", f"dingtalk: {{url: '{robot.base}/robot/send', token:")
    path = tmp / "inventory.yml"
    path.write_text(text)
    return path


@pytest.fixture
def webhook(tmp_path: Path) -> Iterator[Rig]:
    """The bridge (in this process, 2 attempts, 1 s timeout, no pause) between the stand-ins."""
    answers: list[int] = []

    def gateway_answer(path: str, body: dict[str, Any], got: Received) -> tuple[int, dict[str, Any]]:
        code = answers.pop(0) if answers else 200
        if code == 0:
            time.sleep(2)  # longer than the bridge's timeout
            code = 200
        got.requests.append((path, body))
        return code, {}

    with http_standin(dingtalk_answer(TOKEN, SECRET)) as robot, http_standin(gateway_answer) as gateway:
        inv = load(inventory(tmp_path, robot, gateway)).inventory
        bridge = Bridge(inv, SecretResolver(), Policy(timeout=1, attempts=2, pause=0))
        server = serve(bridge, "127.0.0.1", 0)
        try:
            yield Rig(robot, gateway, f"http://127.0.0.1:{server.server_address[1]}", answers)
        finally:
            server.shutdown()
            server.server_close()


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> int:
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_robot_gets_signed_markdown_and_a_gateway_plain_json(
    webhook: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="govnet.notify")
    assert post(f"{webhook.url}/notify/fgw-it", payload()) == 200
    assert webhook.robot.refused == []
    ((_, body),) = webhook.robot.requests
    assert body["msgtype"] == "markdown" and "测试单位0 (sz-u0)" in body["markdown"]["text"]
    assert post(f"{webhook.url}/notify/party-security", payload()) == 200
    ((_, sms),) = webhook.gateway.requests
    assert sms["to"] == ["13800000001"] and sms["text"].startswith("【govnet】告警 FIRING 1")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "contact=fgw-it channel=dingtalk status=firing alerts=1 group= attempts=1 delivered",
        "contact=party-security channel=sms status=firing alerts=1 group= attempts=1 delivered",
    ]
    assert not any(TOKEN in line or SECRET in line for line in lines)


def test_a_gateway_error_that_may_pass_is_retried_once_more(webhook: Rig) -> None:
    webhook.gateway_answers.extend([503])
    assert post(f"{webhook.url}/notify/party-security", payload()) == 200
    assert len(webhook.gateway.requests) == 2


def test_retries_are_bounded_then_alertmanager_is_told(
    webhook: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    webhook.gateway_answers.extend([503, 503, 503])
    assert post(f"{webhook.url}/notify/party-security", payload()) == 502
    assert len(webhook.gateway.requests) == 2
    assert caplog.records[-1].getMessage().endswith("attempts=2 failed: HTTP 503")


def test_a_refusal_is_final(webhook: Rig, caplog: pytest.LogCaptureFixture) -> None:
    webhook.gateway_answers.extend([400])
    assert post(f"{webhook.url}/notify/party-security", payload()) == 502
    assert len(webhook.gateway.requests) == 1
    assert caplog.records[-1].getMessage().endswith("attempts=1 failed: HTTP 400")


def test_a_silent_gateway_times_out(webhook: Rig, caplog: pytest.LogCaptureFixture) -> None:
    webhook.gateway_answers.extend([0, 0])
    assert post(f"{webhook.url}/notify/party-security", payload()) == 502
    assert caplog.records[-1].getMessage().endswith("attempts=2 failed: no answer within 1 s")


def test_a_wrong_signature_is_a_final_dingtalk_error(webhook: Rig, tmp_path: Path) -> None:
    (tmp_path / "secrets" / "dingtalk-secret").write_text("SEC-not-the-robot-s")
    inv = load(tmp_path / "inventory.yml").inventory
    bridge = Bridge(inv, SecretResolver(), Policy(timeout=1, attempts=3, pause=0))
    (done,) = bridge.deliver("fgw-it", payload())
    assert (done.ok, done.attempts) == (False, 1) and done.error.startswith("DingTalk errcode 310000")
    assert webhook.robot.refused == ["sign"]


def test_unknown_contacts_and_other_bodies_are_refused(webhook: Rig) -> None:
    assert post(f"{webhook.url}/notify/noc", payload()) == 404  # e-mail only: not the bridge's
    assert post(f"{webhook.url}/notify/fgw-it", b"not json") == 400
    assert post(f"{webhook.url}/notify/fgw-it", {"alerts": "x"}) == 400
    assert webhook.robot.requests == [] and webhook.gateway.requests == []


def test_a_bridge_with_a_token_refuses_requests_without_it(webhook: Rig, tmp_path: Path) -> None:
    inv = load(tmp_path / "inventory.yml").inventory
    bridge = Bridge(inv, SecretResolver(), Policy(timeout=1, attempts=1), token="t0ken")
    server = serve(bridge, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/notify/fgw-it"
    try:
        assert post(url, payload()) == 401
        assert post(url, payload(), {"Authorization": "Bearer wrong"}) == 401
        assert webhook.robot.requests == []
        assert post(url, payload(), {"Authorization": "Bearer t0ken"}) == 200
        assert len(webhook.robot.requests) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_health_answers_without_delivering(webhook: Rig) -> None:
    with urllib.request.urlopen(f"{webhook.url}/healthz", timeout=10) as answer:
        assert answer.status == 200 and answer.read() == b"ok\n"
    assert webhook.robot.requests == [] and webhook.gateway.requests == []


def test_deliveries_run_side_by_side(webhook: Rig) -> None:
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda: codes.append(post(f"{webhook.url}/notify/fgw-it", payload())))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert codes == [200] * 5 and len(webhook.robot.requests) == 5
