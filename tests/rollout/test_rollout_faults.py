"""The fault matrix for rollouts (issue #8), on a small lab twin.

Each test breaks something while ``govnet rollout apply`` runs, the way it breaks in the field
(an SSH session dying mid-push, a device too slow, a change that cuts off the units behind a
node, a reboot during verify, a full disk under the state store, a SIGTERM, a second apply, a
run of failures), then ``check_run`` asserts the same invariants after every one: the store is
consistent, every touched unit is verified, restored, or flagged as needing attention with its
backup at hand, and the audit chain verifies. Each test plans its own few units, so the tests
do not depend on each other's order.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.cli import main as govnet_main
from govnet.lab.devsim import set_fault
from tests.helpers import ROOT
from tests.labkit import require_lab
from tests.rollout.invariants import check_run, heal_all
from tests.rollout.test_rollout_lab import Lab, apply, plan

NETWORK = "198.18.0.0/17"
UNITS = 8  # 6 nodes + 8 units, every platform; which unit is where is fixed by the site seed


IN_PROCESS = {
    ("rollout", "plan"),
    ("rollout", "status"),
    ("rollout", "rollback"),
    ("audit", "verify"),
    ("lab", "status"),
    ("lab", "fault"),
    ("lab", "heal"),
    ("config", "backup"),
}


class FastLab(Lab):
    """The same CLI, but the commands that neither apply nor resume run in this process: on a
    loaded 2-core machine a govnet process takes seconds to start, and faults must land in time.
    ``apply`` and ``resume`` stay real processes (signals, locks, kills)."""

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        if tuple(args[:2]) not in IN_PROCESS:
            return super().run(*args, check=check, timeout=timeout)
        env = {"GOVNET_LAB_STATE": str(self.root / "lab"), **self.env}
        saved, cwd = {k: os.environ.get(k) for k in env}, os.getcwd()
        out, err = io.StringIO(), io.StringIO()
        try:
            os.environ.update(env)
            os.chdir(ROOT)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = govnet_main.run(list(args))
                except SystemExit as exc:  # commands that report failed units exit 3 themselves
                    code = int(exc.code or 0)
        finally:
            os.chdir(cwd)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        result = subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
        if check and code != 0:
            raise AssertionError(f"govnet {' '.join(args)} exited {code}:\n{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_lab(("ip", "ping", "snmpd"))
    lab = FastLab("f" + uuid.uuid4().hex[:6], tmp_path_factory.mktemp("faults"))
    with lab.up("--network", NETWORK, "--units", str(UNITS)):
        yield lab


@pytest.fixture
def healed(lab: Lab) -> Iterator[Lab]:
    lab.state = lab.root / "state"
    yield lab
    lab.state = lab.root / "state"
    heal_all(lab)


def units_of(lab: Lab, segment: str) -> list[str]:
    return [u["id"] for u in lab.info["units"] if segment in u["segments"]]


def start_apply(lab: Lab, path: str, *args: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        GOVNET_LAB_STATE=str(lab.root / "lab"),
        GOVNET_STATE=str(lab.state),
        GOVNET_INVENTORY=lab.info["inventory"],
    )
    return subprocess.Popen(
        [sys.executable, "-m", "govnet", "rollout", "apply", path, "--yes", "--json", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def phases(lab: Lab, pid: int) -> tuple[str | None, dict[str, str]]:
    """The run owned by ``pid`` and each unit's phase (empty while nothing is recorded)."""
    try:
        conn = sqlite3.connect(lab.state / "govnet.db", timeout=5)
        rows = conn.execute(
            "SELECT u.run_id, u.unit, u.phase FROM run_units u JOIN runs r ON r.id = u.run_id WHERE r.pid = ?",
            (pid,),
        ).fetchall()
        conn.close()
    except sqlite3.Error:
        return None, {}
    return (rows[0][0] if rows else None), {unit: phase for _, unit, phase in rows}


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 120) -> None:
    """Bounded polling: the machine is loaded, so generous; never a sleep as the assertion."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, dict[str, Any], str]:
    out, err = proc.communicate(timeout=timeout)
    assert "Traceback" not in err, err
    return proc.returncode, (json.loads(out) if out.strip() else {}), err


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["id"]: u for u in report["units"]}


# ---------------------------------------------------------------------------------- sessions


def test_ssh_drop_mid_push_restores_or_flags_the_unit(healed: Lab) -> None:
    lab = healed
    victim, other = "sz-jianchayuan", "sz-jiwei"
    data = plan(lab, "--segment", "intranet", "--unit", victim, "--unit", other)
    lab.run("lab", "fault", victim, "ssh-drop")  # the device hangs up at the 2nd config line
    report = apply(lab, data["path"], "--canary", "0", "--max-failures", "1")
    results = by_id(report)
    assert report["code"] == 3 and results[other]["result"] == "changed"  # the run went on
    reason = results[victim]["reason"]
    total = len(next(u for u in data["units"] if u["id"] == victim)["commands"])
    assert f"connection lost after 1 of {total} lines" in reason, reason
    units = check_run(lab, report["run"], data["path"])
    if units[victim]["attention"]:  # the restore was cut too: the engineer rolls it back
        back = lab.json("rollout", "rollback", report["run"], "--yes")
        assert by_id(back)[victim]["result"] == "ok", back
    else:
        assert results[victim]["result"] == "restored"


def test_an_unknown_question_fails_the_unit_quoting_it_and_the_unit_is_restored(healed: Lab) -> None:
    """A line asks what no platform record knows (the ``ask`` fault): the push stops at once
    with the question quoted (not after the command timeout), the unit is restored, the run
    goes on."""
    lab = healed
    victim, other = "sz-jianchayuan", "sz-jiwei"
    data = plan(lab, "--segment", "intranet", "--unit", victim, "--unit", other)
    commands = next(u for u in data["units"] if u["id"] == victim)["commands"]
    asking = commands[len(commands) // 2].strip()
    lab.run("lab", "fault", victim, f"ask=^{re.escape(asking)}$")
    report = apply(lab, data["path"], "--canary", "0", "--max-failures", "1", "--timeout", "20")
    results = by_id(report)
    assert results[victim]["result"] == "restored", results[victim]
    assert "Restart it now? [Y/N]:" in results[victim]["reason"], results[victim]
    assert "no answer within" not in results[victim]["reason"]
    assert results[other]["result"] in ("changed", "ok")  # the run went on (ok: done by an earlier test)
    check_run(lab, report["run"], data["path"])


def test_auth_failure_fails_the_unit_untouched(healed: Lab) -> None:
    lab = healed
    victim = "ly-xianwei"
    data = plan(lab, "--segment", "intranet", "--unit", victim)
    lab.run("lab", "fault", victim, "auth-fail")
    report = apply(lab, data["path"])
    result = by_id(report)[victim]
    assert result["result"] == "failed" and "authentication" in result["reason"], result
    units = check_run(lab, report["run"], data["path"])
    assert units[victim]["backup"] is None and not units[victim]["attention"]


def test_slow_device_past_the_timeout_fails_with_the_reason_and_the_run_goes_on(healed: Lab) -> None:
    lab = healed
    slow, other = "ly-xianwei", "sz-qixiang"
    data = plan(lab, "--segment", "extranet", "--unit", slow, "--unit", other)
    lab.run("lab", "fault", slow, "slow=3000")
    report = apply(lab, data["path"], "--timeout", "1", "--canary", "0", "--max-failures", "1")
    results = by_id(report)
    assert results[slow]["result"] == "failed" and "no answer within 1 s" in results[slow]["reason"]
    assert results[other]["result"] == "changed"
    check_run(lab, report["run"], data["path"])


# ---------------------------------------------------------------------------------- verify


def test_a_change_that_cuts_off_the_units_behind_a_node_is_restored(healed: Lab) -> None:
    """The node's change "breaks" the path to a unit behind it (its link goes down while the
    change is pushed): verify sees the unit stop answering, the node is restored."""
    lab = healed
    node, behind = "agg-shizhi-b", "sz-jiwei"
    address = next(u["host"] for u in lab.info["units"] if u["id"] == behind)
    data = plan(lab, "--segment", "intranet", "--unit", node)
    lab.run("lab", "fault", node, "slow=100")  # a push long enough to act during it
    proc = start_apply(lab, data["path"], "--max-failures", "1")
    wait_for("the push", lambda: phases(lab, proc.pid)[1].get(node) in ("pushing", "pushed", "saved"))
    lab.run("lab", "fault", behind, "link-down")
    code, report, _ = finish(proc)
    result = by_id(report)[node]
    assert code == 3 and result["result"] == "restored", report
    assert f"verify: {address} stopped answering ICMP" in result["reason"], result
    check_run(lab, report["run"], data["path"])


def test_device_reboot_during_verify_is_waited_for_and_restored(healed: Lab) -> None:
    lab = healed
    victim = "sz-renda-ban"
    data = plan(lab, "--segment", "party", "--unit", victim)
    devices = Path(lab.info["state"]) / "devices"
    device = data["units"][0]["device"]
    lab.run("lab", "fault", victim, "slow=100")  # a push of a few seconds, to catch its end
    proc = start_apply(lab, data["path"], "--max-failures", "1")
    wait_for("the save", lambda: phases(lab, proc.pid)[1].get(victim) == "pushed", timeout=180)
    set_fault(devices, device, "slow=3000")  # saving and reading back now take seconds
    wait_for("the verify", lambda: phases(lab, proc.pid)[1].get(victim) == "saved")
    lab.run("lab", "fault", victim, "device-down")  # powered off while govnet verifies
    wait_for("the restore", lambda: phases(lab, proc.pid)[1].get(victim) in ("restoring", "done"))
    lab.run("lab", "heal", victim)  # boots again from the saved (changed) startup config
    code, report, _ = finish(proc)
    result = by_id(report)[victim]
    assert code == 3 and result["result"] == "restored", report
    check_run(lab, report["run"], data["path"])


# ---------------------------------------------------------------------------------- govnet itself


@pytest.fixture
def small_disk(healed: Lab) -> Iterator[Path]:
    """A 2 MiB tmpfs as the state store, unmounted afterwards whatever happens."""
    mount = healed.root / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> None:
    """Fill the file system holding ``path`` to the last byte."""
    # unbuffered: nothing is left to flush (and fail) at close
    with open(path, "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)


def test_disk_full_under_the_state_store_stops_cleanly_and_never_pushes_unrecorded(
    healed: Lab, small_disk: Path
) -> None:
    lab = healed
    lab.state = small_disk / "state"
    victims = ["yc-quwei", "sz-gongshang", "sz-renda-ban"]
    data = plan(lab, "--segment", "intranet", *[a for v in victims for a in ("--unit", v)])
    # full before the run starts: one line, nothing recorded, nothing pushed
    small_disk.joinpath("state").mkdir(mode=0o700, exist_ok=True)
    fill(small_disk / "filler")
    refused = lab.run("rollout", "apply", data["path"], "--yes", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "no space left" in refused.stderr, refused.stderr
    (small_disk / "filler").unlink()
    again = plan(lab, "--segment", "intranet", *[a for v in victims for a in ("--unit", v)])
    assert [u["commands"] for u in again["units"]] == [u["commands"] for u in data["units"]]
    # full in the middle of the run
    for victim in victims:
        lab.run("lab", "fault", victim, "slow=40")
    proc = start_apply(lab, data["path"], "--concurrency", "1", "--max-failures", "100%", "--quiet")
    wait_for("a unit done", lambda: "done" in phases(lab, proc.pid)[1].values())
    fill(small_disk / "filler")
    code, _, err = finish(proc)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "full" in err or "no space left" in err.lower(), err
    assert "govnet rollout resume" in err, err
    run_id = err.split("govnet rollout resume ")[1].split(")")[0].strip()
    # reading may still work, or SQLite cannot even map its WAL index: either way no traceback
    full = lab.run("rollout", "status", run_id, check=False)
    if full.returncode == 0:
        assert run_id in full.stdout and not full.stderr, full
    else:
        assert full.returncode == 1 and "no space left" in full.stderr and not full.stdout, full
    (small_disk / "filler").unlink()
    check_run(lab, run_id, data["path"], live=False)  # consistent as the full disk left it
    heal_all(lab)
    check_run(lab, run_id, data["path"])  # and no device holds a change the store does not know
    resumed = lab.json("rollout", "resume", run_id, "--yes")
    assert resumed["units"] and {u["result"] for u in resumed["units"]} <= {"changed", "ok"}, resumed
    units = check_run(lab, run_id, data["path"])
    assert {u["result"] for u in units.values()} <= {"changed", "ok"}


def test_sigterm_finishes_the_units_in_flight_and_resume_does_the_rest(healed: Lab) -> None:
    lab = healed
    data = plan(lab, "--segment", "extranet", *[a for v in units_of(lab, "extranet") for a in ("--unit", v)])
    victims = [u["id"] for u in data["units"] if u["status"] == "change"]
    assert len(victims) >= 3
    for victim in victims:
        lab.run("lab", "fault", victim, "slow=40")
    proc = start_apply(lab, data["path"], "--concurrency", "2", "--canary", "0", "--max-failures", "100%")
    wait_for("a unit done", lambda: "done" in phases(lab, proc.pid)[1].values())
    run_id, _ = phases(lab, proc.pid)
    assert run_id is not None
    proc.send_signal(signal.SIGTERM)
    code, report, err = finish(proc)
    assert code == 143 and "stopped by SIGTERM" in err and f"govnet rollout resume {run_id}" in err, err
    units = check_run(lab, run_id, data["path"])
    assert not any(u["attention"] for u in units.values())  # in-flight units were finished
    assert {u["phase"] for u in units.values()} <= {"done", "pending"}
    waiting = {u for u, v in units.items() if v["phase"] == "pending"}
    assert waiting and all(by_id(report)[u]["reason"].startswith("not started") for u in waiting)
    assert lab.json("rollout", "status", run_id)["status"] == "interrupted"
    pushes = lab.audit_pushes()
    resumed = lab.json("rollout", "resume", run_id, "--yes")
    assert {u["id"] for u in resumed["units"]} == waiting
    units = check_run(lab, run_id, data["path"])
    assert {units[u]["result"] for u in victims} == {"changed"}
    after = lab.audit_pushes()
    assert all(after.get(u, 0) == pushes.get(u, 0) + (u in waiting) for u in victims)  # never twice


def test_a_second_apply_of_the_same_or_another_plan_is_refused_while_one_runs(healed: Lab) -> None:
    lab = healed
    first = plan(lab, "--segment", "party", "--unit", "wy-wuquan", "--unit", "ly-xianwei")
    other = plan(lab, "--segment", "party", "--unit", "wy-wuquan", "--unit", "sz-jianchayuan")
    lab.run("lab", "fault", "wy-wuquan", "slow=1000")  # holds the first run until healed
    proc = start_apply(lab, first["path"], "--canary", "0")
    wait_for("the run", lambda: phases(lab, proc.pid)[1].get("wy-wuquan") == "pushing")
    seconds = [start_apply(lab, path) for path in (first["path"], other["path"])]
    for second in seconds:
        code, _, err = finish(second)
        assert code == 1 and "a rollout is already running" in err and len(err.strip().splitlines()) == 1, err
    assert proc.poll() is None  # the refusals came while the first run held the lock
    heal_all(lab)
    code, report, _ = finish(proc)
    assert code == 0, report
    check_run(lab, report["run"], first["path"])
    late = apply(lab, other["path"])  # planned before the first run changed wy-wuquan: stale there
    results = by_id(late)
    assert results["wy-wuquan"]["result"] == "skipped" and "stale" in results["wy-wuquan"]["reason"]
    assert results["sz-jianchayuan"]["result"] == "changed"
    check_run(lab, late["run"], other["path"])


def test_max_failures_stops_the_run_and_skips_the_rest_with_the_reason(healed: Lab) -> None:
    lab = healed
    nodes = ["core-city", "agg-shizhi-a", "agg-linying", "agg-wuyang"]
    data = plan(lab, "--segment", "party", *[a for n in nodes for a in ("--unit", n)])
    assert [u["id"] for u in data["units"]] == nodes
    for node in nodes[:2]:
        lab.run("lab", "fault", node, "reject=.")  # every configuration line refused
    report = apply(lab, data["path"], "--canary", "2", "--max-failures", "25%")  # 25% of 4: 1
    results = by_id(report)
    assert report["code"] == 3 and report["stopped"] is True
    assert [results[n]["result"] for n in nodes] == ["restored", "restored", "skipped", "skipped"]
    assert all(results[n]["reason"] == "run stopped: failures passed --max-failures" for n in nodes[2:])
    units = check_run(lab, report["run"], data["path"])
    assert lab.json("rollout", "status", report["run"])["status"] == "stopped"
    assert all(units[n]["phase"] == "done" for n in nodes)
