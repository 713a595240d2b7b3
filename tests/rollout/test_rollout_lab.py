"""Rollouts end to end on the lab twin: plan → apply → verify → idempotent → rollback, and faults.

Everything goes through the CLI as an engineer runs it, against simulated devices answering real
SSH inside network namespaces.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.devices.normalise import stable_text
from govnet.rollout.lock import exclusive
from govnet.state import backups
from govnet.state.audit import current_user
from govnet.state.db import connect
from tests.export.amkit import Alertmanager
from tests.helpers import ROOT
from tests.labkit import OperatorLab, require_lab
from tests.rollout.invariants import check_run, heal_all

NETWORK = "198.18.0.0/17"
PLATFORMS = {"huawei_vrp", "h3c_comware", "cisco_ios"}


class Lab(OperatorLab):
    def unit(self, platform: str) -> dict[str, Any]:
        return next(u for u in self.info["units"] if u["platform"] == platform and "party" in u["segments"])

    def audit_pushes(self) -> dict[str, int]:
        conn = sqlite3.connect(self.state / "govnet.db")
        counts: dict[str, int] = {}
        for (unit,) in conn.execute("SELECT unit FROM audit WHERE action='push'"):
            counts[unit] = counts.get(unit, 0) + 1
        return counts


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_lab(("ip", "ping", "snmpd"))
    with Lab("r" + uuid.uuid4().hex[:6], tmp_path_factory.mktemp("rollout")).up("--network", NETWORK) as lab:
        yield lab


@pytest.fixture
def healed(lab: Lab) -> Iterator[Lab]:
    yield lab
    heal_all(lab)


def plan(lab: Lab, *args: str) -> dict[str, Any]:
    out = lab.root / f"plan-{uuid.uuid4().hex[:6]}.json"
    data: dict[str, Any] = lab.json("rollout", "plan", *args, "--out", str(out))
    data["path"] = str(out)
    return data


def apply(lab: Lab, path: str, *args: str, check: bool = True) -> dict[str, Any]:
    result = lab.run("rollout", "apply", path, "--yes", "--json", *args, check=False)
    if check:
        assert result.returncode in (0, 3), result.stderr
    return (
        {"code": result.returncode, **json.loads(result.stdout)}
        if result.stdout.strip()
        else {"code": result.returncode, "stderr": result.stderr}
    )


def running_configs(lab: Lab, segment: str) -> dict[str, str]:
    """Each device's running config as it shows it now (read through ``config backup``)."""
    rows = lab.json("config", "backup", "--segment", segment)
    assert all(r["ok"] for r in rows), rows
    with connect(lab.root / "state") as conn:
        return {r["device"]: backups.get_blob(conn, r["hash"]) for r in rows}


def stable(platform: str | None, text: str) -> str:
    """``text`` without the platform's volatile lines (as rollback compares it)."""
    return text if platform is None else stable_text(platform, text)


@pytest.mark.parametrize("segment", ["party", "intranet", "extranet"])
def test_plan_apply_idempotent_rollback_on_every_platform(lab: Lab, segment: str) -> None:
    first = plan(lab, "--segment", segment)
    assert {u["status"] for u in first["units"]} == {"change"}, first["units"]
    platforms = {u["platform"] for u in lab.info["units"] if segment in u["segments"]}
    # the 24-unit lab has no IOS unit on the extranet (the site has 2 of 70; see the report)
    assert platforms == ({"huawei_vrp", "h3c_comware"} if segment == "extranet" else PLATFORMS)
    for unit in first["units"]:
        assert not any("<<secret" not in c and "cipher" in c for c in unit["commands"])
    report = apply(lab, first["path"], "--concurrency", "20")
    assert report["code"] == 0
    assert {u["result"] for u in report["units"]} == {"changed"}
    again = plan(lab, "--segment", segment)
    assert {u["status"] for u in again["units"]} == {"nochange"}  # idempotent
    assert lab.run("audit", "verify").returncode == 0
    # the secrets went to the devices, never into the plan, the state store's audit or the output
    secrets = [p.read_text().strip() for p in (Path(lab.info["state"]) / "secrets").iterdir()]
    texts = [Path(first["path"]).read_text(), json.dumps(report)]
    conn = sqlite3.connect(lab.root / "state" / "govnet.db")
    texts += [row[0] for row in conn.execute("SELECT detail FROM audit")]
    assert not any(s in t for s in secrets for t in texts)
    back = lab.json("rollout", "rollback", report["run"], "--yes")
    assert {u["result"] for u in back["units"]} == {"ok"}
    assert {u["reason"] for u in back["units"]} == {"rolled back to the pre-change backup"}
    # byte for byte (volatile lines aside: a quirky unit's timestamp and clock-period move by
    # themselves): every device shows exactly the config backed up before the change
    status = lab.json("rollout", "status", report["run"])
    with connect(lab.root / "state") as conn:
        before = {u["device"]: backups.get_blob(conn, u["backup"]) for u in status["units"]}
    now = running_configs(lab, segment)
    assert set(before) <= set(now)
    platform_of = {u["id"]: u["platform"] for u in lab.info["units"]}
    seen = set()
    for record in status["units"]:
        device, text = record["device"], before[record["device"]]
        platform = platform_of.get(record["id"])  # nodes: no quirks, compared byte for byte
        assert stable(platform, now[device]) == stable(platform, text), "\n".join(
            difflib.unified_diff(text.splitlines(), now[device].splitlines(), "backup", device, lineterm="")
        )
        seen.add(platform_of.get(record["id"]))
    assert platforms <= seen
    after = plan(lab, "--segment", segment)
    assert [(u["id"], u["status"], u["reason"], u["commands"]) for u in after["units"]] == [
        (u["id"], u["status"], u["reason"], u["commands"]) for u in first["units"]
    ]  # back where it started: the same change again


def test_policy_gate_refuses_units_without_paperwork(lab: Lab) -> None:
    result = lab.run(
        "rollout",
        "plan",
        "--segment",
        "party",
        "--offline",
        "--inventory",
        "inventory",
        "--json",
        "--unit",
        "sz-renfang",
        "--unit",
        "wy-xinan",
        "--unit",
        "sz-caizheng",
    )
    units = {u["id"]: u for u in json.loads(result.stdout)["units"]}
    assert (
        units["sz-renfang"]["reason"]
        == "refused by policy: no application-system registration (备案) on file"
    )
    assert (
        units["wy-xinan"]["reason"]
        == "refused by policy: no signed security-responsibility agreement on file"
    )
    assert units["sz-caizheng"]["status"] == "refused" and "no backup" in units["sz-caizheng"]["reason"]


def test_rejected_command_restores_the_unit_and_the_run_goes_on(healed: Lab) -> None:
    lab = healed
    victim = lab.unit("huawei_vrp")
    lab.run("lab", "fault", victim["id"], "reject=^ntp-service")
    data = plan(lab, "--segment", "intranet")
    report = apply(lab, data["path"], "--max-failures", "5")
    results = {u["id"]: u for u in report["units"]}
    assert results[victim["id"]]["result"] == "restored"
    assert "Unrecognized command" in results[victim["id"]]["reason"]
    assert sum(1 for u in report["units"] if u["result"] == "changed") >= len(report["units"]) - 1
    check_run(lab, report["run"], data["path"])  # restored to its backup, audited, store consistent
    left = plan(lab, "--segment", "intranet")
    assert [u["id"] for u in left["units"] if u["status"] == "change"] == [victim["id"]]


def test_auth_failure_and_ssh_drop_are_reported_per_unit(healed: Lab) -> None:
    lab = healed
    denied, dropped = lab.unit("cisco_ios"), lab.unit("h3c_comware")
    data = plan(lab, "--segment", "party", "--unit", denied["id"], "--unit", dropped["id"])
    lab.run("lab", "fault", denied["id"], "auth-fail")
    lab.run("lab", "fault", dropped["id"], "ssh-drop")
    report = apply(lab, data["path"], "--canary", "0")
    results = {u["id"]: u for u in report["units"]}
    if results.get(denied["id"], {}).get("result") != "ok":
        assert results[denied["id"]]["result"] in ("failed", "skipped")
        assert (
            "authentication" in results[denied["id"]]["reason"] or "stale" in results[denied["id"]]["reason"]
        )
    assert results[dropped["id"]]["result"] in ("failed", "restored", "ok", "skipped")
    assert lab.run("audit", "verify").returncode == 0


def test_stale_plans_are_refused(healed: Lab) -> None:
    lab = healed
    unit = lab.unit("cisco_ios")
    data = plan(lab, "--segment", "intranet", "--unit", unit["id"])
    inventory = Path(lab.info["inventory"])
    original = inventory.read_text()
    try:
        inventory.write_text(original + "\n# touched\n")
        result = lab.run("rollout", "apply", data["path"], "--yes", check=False)
        assert result.returncode == 1
        assert "stale: the inventory changed" in result.stderr and "Traceback" not in result.stderr
    finally:
        inventory.write_text(original)


def test_apply_refuses_without_yes_off_a_terminal_and_a_second_apply_is_locked(lab: Lab) -> None:
    data = plan(lab, "--segment", "intranet")
    result = lab.run("rollout", "apply", data["path"], check=False)
    assert result.returncode == 2 and "pass --yes" in result.stderr
    with exclusive(lab.root / "state", "test holds the lock"):
        second = lab.run("rollout", "apply", data["path"], "--yes", check=False)
    assert second.returncode == 1 and "a rollout is already running" in second.stderr


def test_sigkill_mid_apply_then_resume_never_pushes_twice(healed: Lab) -> None:
    lab = healed
    for unit in lab.info["units"]:
        if "extranet" in unit["segments"]:
            lab.run("lab", "fault", unit["id"], "slow=60")
    data = plan(lab, "--segment", "extranet")
    env = dict(os.environ, GOVNET_LAB_STATE=str(lab.root / "lab"), GOVNET_STATE=str(lab.root / "state"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "govnet",
            "rollout",
            "apply",
            data["path"],
            "--yes",
            "--concurrency",
            "3",
            "--max-failures",
            "100%",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = lab.root / "state" / "govnet.db"
    deadline = time.monotonic() + 120
    run_id = None
    while time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            conn = sqlite3.connect(db)
            row = conn.execute(
                "SELECT u.run_id, count(*) FROM run_units u JOIN runs r ON r.id = u.run_id "
                "WHERE r.pid = ? AND u.phase = 'done' GROUP BY u.run_id",
                (proc.pid,),
            ).fetchone()
        except sqlite3.Error:
            continue
        if row and row[1] >= 2:
            run_id = row[0]
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert run_id is not None
    status = lab.json("rollout", "status", run_id)
    assert status["status"].startswith("interrupted"), status
    check_run(lab, run_id, data["path"], live=False)  # mid-change units are flagged, backups at hand
    done_before = {u["id"] for u in status["units"] if u["phase"] == "done"}
    pushes_before = lab.audit_pushes()
    for unit in lab.info["units"]:
        if "extranet" in unit["segments"]:
            lab.run("lab", "heal", unit["id"])
    resumed = lab.json("rollout", "resume", run_id, "--yes")
    assert {u["id"] for u in resumed["units"]}.isdisjoint(done_before)
    final = lab.json("rollout", "status", run_id)
    assert all(u["phase"] == "done" and u["result"] in ("changed", "ok") for u in final["units"]), final
    pushes_after = lab.audit_pushes()
    for unit in done_before:
        assert pushes_after.get(unit, 0) == pushes_before.get(unit, 0)  # never pushed twice
    check_run(lab, run_id, data["path"])
    assert {u["status"] for u in plan(lab, "--segment", "extranet")["units"]} == {"nochange"}


def test_each_wave_is_silenced_on_alertmanager_while_it_changes(healed: Lab, tmp_path: Path) -> None:
    """A real Alertmanager: the canary wave's silence is active while the canary changes and
    expired before the main wave's starts; every silence names the run and the OS user and is
    expired at the end; rollback silences its units too; Alertmanager down is only a warning."""
    lab = healed
    units = {u["id"] for u in lab.info["units"]}
    chosen = [u["id"] for u in plan(lab, "--segment", "party")["units"] if u["status"] == "change"]
    chosen = [u for u in chosen if u in units][:3]  # units other tests left unchanged
    assert len(chosen) == 3
    data = plan(lab, "--segment", "party", *(a for u in chosen for a in ("--unit", u)))
    changing = [u["id"] for u in data["units"] if u["status"] == "change"]
    assert sorted(changing) == sorted(chosen), data["units"]
    for unit in chosen:
        lab.run("lab", "fault", unit, "slow=60")  # a wave lasts seconds: long enough to watch
    config = tmp_path / "alertmanager.yml"
    config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    am = Alertmanager(config, tmp_path)
    try:
        env = dict(os.environ, GOVNET_LAB_STATE=str(lab.root / "lab"), GOVNET_STATE=str(lab.root / "state"))
        options = ["--canary", "1", "--concurrency", "5", "--alertmanager", am.base]
        proc = subprocess.Popen(
            [sys.executable, "-m", "govnet", "rollout", "apply", data["path"], "--yes", "--json", *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: list[list[dict[str, Any]]] = []  # Alertmanager's silences, polled during the run
        while proc.poll() is None:
            seen.append(am.call("/api/v2/silences"))
            time.sleep(0.1)
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        report = json.loads(out)
        assert {u["result"] for u in report["units"]} == {"changed"}
        ours = [s for s in am.call("/api/v2/silences") if report["run"] in s["comment"]]
        assert len(ours) == 2 and {s["status"]["state"] for s in ours} == {"expired"}, ours
        assert {s["createdBy"] for s in ours} == {current_user()}
        by_comment = {s["comment"].rsplit(": ", 1)[1]: s for s in ours}
        canary, main = by_comment["canary wave"], by_comment["main wave"]
        first = report["units"][0]["id"]
        assert canary["matchers"] == [{"name": "unit", "value": first, "isRegex": True, "isEqual": True}]
        assert set(main["matchers"][0]["value"].split("|")) == set(changing) - {first}

        def state(poll: list[dict[str, Any]], ident: str) -> str | None:
            return next((s["status"]["state"] for s in poll if s["id"] == ident), None)

        during_canary = [p for p in seen if state(p, canary["id"]) == "active"]
        during_main = [p for p in seen if state(p, main["id"]) == "active"]
        assert during_canary and during_main, "each wave's silence was seen active during the run"
        assert all(state(p, canary["id"]) == "expired" for p in during_main)  # one wave at a time
        assert all(state(p, main["id"]) is None for p in during_canary)
    finally:
        am.stop()
        for unit in chosen:
            lab.run("lab", "heal", unit)
    # Alertmanager gone: a warning naming it, and the rollback goes on
    back = lab.run("rollout", "rollback", report["run"], "--yes", "--json", "--alertmanager", am.base)
    assert back.returncode == 0, back.stderr
    assert f"warning: alertmanager {am.base}: cannot create the silence for rollback" in back.stderr
    assert "Traceback" not in back.stderr
    assert {u["result"] for u in json.loads(back.stdout)["units"]} == {"ok"}


# ---------------------------------------------------------------------------------- progress

UNIT_LINE = re.compile(r"^unit (?P<unit>\S+) (?P<word>.+?) (?P<seconds>\d+\.\d)s(?:: (?P<reason>.*))?$")


def unit_lines(stderr: str) -> list[re.Match[str]]:
    """The per-unit progress lines of a command's stderr (other lines, e.g. warnings, aside)."""
    return [m for m in map(UNIT_LINE.match, stderr.splitlines()) if m is not None]


def test_off_a_terminal_each_unit_is_one_line_as_it_finishes(healed: Lab) -> None:
    """Not on a terminal (here: pipes), plan, apply, backup, drift and rollback print one line per
    unit on stderr as it finishes, and --json on stdout still parses; --quiet prints none."""
    lab = healed
    slow, fast = lab.unit("huawei_vrp")["id"], lab.unit("h3c_comware")["id"]
    out = lab.root / f"plan-{uuid.uuid4().hex[:6]}.json"
    planned = lab.run(
        "rollout", "plan", "--segment", "party", "--unit", slow, "--unit", fast, "--out", str(out), "--json"
    )
    data = json.loads(planned.stdout)
    lines = unit_lines(planned.stderr)
    assert sorted(m["unit"] for m in lines) == sorted(u["id"] for u in data["units"]) == sorted([slow, fast])
    assert {m["word"] for m in lines} <= {"nochange"} | {
        f"change +{u['missing']} -{u['extra']}" for u in data["units"]
    }
    lab.run("lab", "fault", slow, "slow=300")  # the first unit of the plan finishes last
    applied = lab.run("rollout", "apply", str(out), "--yes", "--json", "--canary", "0")
    report = json.loads(applied.stdout)
    lines = unit_lines(applied.stderr)
    assert [(m["unit"], m["word"]) for m in lines] == [(u["id"], u["result"]) for u in report["units"]]
    assert [m["unit"] for m in lines] == [fast, slow], applied.stderr  # in the order they finished
    lab.run("lab", "heal", slow)
    backed = lab.run("config", "backup", slow, fast, "--concurrency", "2", "--json")
    rows = json.loads(backed.stdout)
    assert [(m["unit"], m["word"]) for m in unit_lines(backed.stderr)] != []
    assert sorted(m["unit"] for m in unit_lines(backed.stderr)) == sorted(r["unit"] for r in rows)
    drift = lab.run("config", "drift", slow, fast, "--json", check=False)  # 3: some part drifted
    checked = json.loads(drift.stdout)["units"]
    assert sorted((m["unit"], m["word"]) for m in unit_lines(drift.stderr)) == sorted(
        (u["unit"], u["state"]) for u in checked
    )
    lab.run("lab", "fault", slow, "slow=300")  # restored side by side: the slow one finishes last
    back = lab.run("rollout", "rollback", report["run"], "--yes", "--json", "--concurrency", "2")
    lab.run("lab", "heal", slow)
    assert [(m["unit"], m["word"]) for m in unit_lines(back.stderr)] == [
        (u["id"], u["result"]) for u in json.loads(back.stdout)["units"]
    ]
    assert [m["unit"] for m in unit_lines(back.stderr)] == [fast, slow], back.stderr
    quiet = lab.run("config", "backup", slow, fast, "--json", "--quiet")
    assert len(json.loads(quiet.stdout)) == 2 and unit_lines(quiet.stderr) == []


def test_a_failed_unit_line_gives_the_reason(healed: Lab) -> None:
    lab = healed
    victim = lab.unit("cisco_ios")["id"]
    lab.run("lab", "fault", victim, "auth-fail")
    result = lab.run("config", "backup", victim, "--json", check=False)
    assert result.returncode == 3
    (line,) = unit_lines(result.stderr)
    assert line["unit"] == victim and line["word"] == "failed" and "authentication" in (line["reason"] or "")
    assert json.loads(result.stdout)[0]["ok"] is False


def on_a_terminal(lab: Lab, *args: str, env: dict[str, str]) -> tuple[str, str]:
    """Run govnet with its stderr on a pseudo-terminal (stdout a pipe): (what the terminal got,
    stdout)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "govnet", *args],
        cwd=ROOT,
        env={**os.environ, **lab.env, "GOVNET_LAB_STATE": str(lab.root / "lab"), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = proc.communicate(timeout=120)
    os.close(master)
    assert proc.returncode == 0, seen.decode(errors="replace")
    return seen.decode(errors="replace"), stdout.decode()


def colours(text: str) -> bool:
    """Whether ``text`` holds an SGR sequence setting a colour (not only bold, dim or reset)."""
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        codes = [int(p) for p in params.split(";") if p]
        if any(30 <= c <= 38 or 40 <= c <= 48 or 90 <= c <= 107 for c in codes[:1]):
            return True
    return False


def test_on_a_terminal_a_live_bar_with_each_unit_and_no_colour_under_no_color(healed: Lab) -> None:
    lab = healed
    units = [lab.unit(p)["id"] for p in sorted(PLATFORMS)]
    args = ("config", "backup", *units, "--json")
    shown, stdout = on_a_terminal(lab, *args, env={"TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"})
    assert len(json.loads(stdout)) == len(units)  # stdout is not the terminal: plain JSON
    assert "backing up" in shown and "━" in shown and f"{len(units)}/{len(units)}" in shown, shown
    assert all(f"unit {u} " in shown for u in units), shown
    assert colours(shown)
    plain, _ = on_a_terminal(
        lab, *args, env={"TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    )
    assert "backing up" in plain and "━" in plain and not colours(plain), plain
