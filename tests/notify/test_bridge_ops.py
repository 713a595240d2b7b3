"""The bridge in operation: a DingTalk robot's 20 posts a minute (paced, and the robot's own
refusal when another sender used them up), and SIGHUP reading the contacts again in the real
``govnet alert-bridge`` process (a bad inventory logged, the contacts in use kept)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from govnet.inventory.loader import load
from govnet.notify.bridge import Bridge
from govnet.notify.channels import Policy
from govnet.secrets import SecretResolver
from tests.export.standins import Received, dingtalk_answer, http_standin, sms_answer
from tests.helpers import stop
from tests.notify.test_bridge import SECRET, TOKEN, inventory, post
from tests.notify.test_messages import payload


def bridge_between(tmp: Path, robot: Received, gateway: Received) -> Bridge:
    inv = load(inventory(tmp, robot, gateway)).inventory
    return Bridge(inv, SecretResolver(), Policy(timeout=2, attempts=2, pause=0, pace_wait=0))


def test_a_robot_is_posted_at_most_twenty_times_a_minute(tmp_path: Path) -> None:
    with http_standin(dingtalk_answer(TOKEN, SECRET)) as robot, http_standin(sms_answer) as gateway:
        bridge = bridge_between(tmp_path, robot, gateway)
        done = [bridge.deliver("fgw-it", payload())[0] for _ in range(23)]
    assert [d.ok for d in done] == [True] * 20 + [False] * 3
    assert {(d.attempts, d.error) for d in done[20:]} == {(0, "the robot's 20 posts a minute are used up")}
    assert len(robot.requests) == 20 and robot.refused == []  # paced: the robot never had to refuse


def test_a_robot_used_up_by_another_sender_is_not_posted_again_this_minute(tmp_path: Path) -> None:
    with (
        http_standin(dingtalk_answer(TOKEN, SECRET, earlier=20)) as robot,
        http_standin(sms_answer) as gateway,
    ):
        bridge = bridge_between(tmp_path, robot, gateway)
        (first,) = bridge.deliver("fgw-it", payload())
        (second,) = bridge.deliver("fgw-it", payload())
    assert (first.ok, first.attempts) == (False, 1)  # 130101 is not retried within seconds
    assert first.error == "DingTalk errcode 130101: send too fast, exceed 20 times per minute"
    assert (second.ok, second.attempts) == (False, 0)
    assert robot.refused == ["limit"] and robot.requests == []


@pytest.fixture
def standins() -> Iterator[tuple[Received, Received]]:
    with http_standin(dingtalk_answer(TOKEN, SECRET)) as robot, http_standin(sms_answer) as gateway:
        yield robot, gateway


class BridgeProcess:
    """``govnet alert-bridge`` as a process; its stderr read line by line on a thread."""

    def __init__(self, inventory_path: Path) -> None:
        argv = [sys.executable, "-m", "govnet", "alert-bridge", "--inventory", str(inventory_path)]
        argv += ["--listen", "127.0.0.1:0", "--attempts", "1"]
        self.proc = subprocess.Popen(
            argv, stderr=subprocess.PIPE, text=True, env=dict(os.environ, NO_COLOR="1")
        )
        self.lines: list[str] = []
        self._new = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        listening = self.wait_for("listening on ")
        self.url = re.sub(r".*listening on (http://[^/]+)/.*", r"\1", listening)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._new:
                self.lines.append(line.rstrip("\n"))
                self._new.notify_all()

    def wait_for(self, text: str, bound: float = 30.0) -> str:
        with self._new:
            found = self._new.wait_for(lambda: [x for x in self.lines if text in x], timeout=bound)
        assert found, f"no line with {text!r} in {self.lines}"
        return found[-1]


def test_sighup_reads_the_contacts_again_and_a_bad_inventory_keeps_them(
    tmp_path: Path, standins: tuple[Received, Received]
) -> None:
    robot, gateway = standins
    path = inventory(tmp_path, robot, gateway)
    good = path.read_text()
    path.write_text("".join(x for x in good.splitlines(keepends=True) if "dingtalk:" not in x))
    bridge = BridgeProcess(path)
    try:
        assert post(f"{bridge.url}/notify/fgw-it", payload()) == 404  # e-mail only, for now
        path.write_text(good)
        bridge.proc.send_signal(signal.SIGHUP)
        assert bridge.wait_for("reloaded: ").endswith("reloaded: 2 contact(s)")
        assert post(f"{bridge.url}/notify/fgw-it", payload()) == 200
        path.write_text(good.replace("sms: {url:", "sms: {uri:"))
        bridge.proc.send_signal(signal.SIGHUP)
        failed = bridge.wait_for("reload failed")
        assert "reload failed, keeping 2 contact(s): " in failed and "uri" in failed
        assert post(f"{bridge.url}/notify/party-security", payload()) == 200
        assert len(robot.requests) == 1 and len(gateway.requests) == 1
        bridge.proc.send_signal(signal.SIGTERM)
        assert bridge.proc.wait(timeout=20) == 0
    finally:
        stop(bridge.proc)
    assert not any("Traceback" in line or TOKEN in line or SECRET in line for line in bridge.lines)
