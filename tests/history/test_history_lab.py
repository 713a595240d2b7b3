"""History on the lab twin, everything through the CLI: a unit backed up by hand, changed by a
rollout (alice), rolled back (bob) and backed up again; then ``config show``/``diff --from --to``
(``live`` included) over those real backups, ``audit log`` naming alice and bob, the Git export
authored by them, and run ids completing from the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.labkit import OperatorLab, govnet, require_lab


class Lab(OperatorLab):
    def as_user(self, user: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return govnet(self.root / "lab", *args, check=check, env={**self.env, "SUDO_USER": user, "TZ": "UTC"})


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_lab(("ip", "ping", "snmpd", "git"))
    root = tmp_path_factory.mktemp("history")
    with Lab("h" + uuid.uuid4().hex[:6], root).up("--units", "6", "--network", "198.18.0.0/17") as lab:
        yield lab


@pytest.fixture(scope="module")
def story(lab: Lab) -> dict[str, Any]:
    """Backup by hand, apply (alice), rollback (bob), backup by hand: what each step left."""
    unit = next(u for u in lab.info["units"] if "party" in u["segments"])["id"]
    lab.as_user("carol", "config", "backup", unit)
    out = lab.root / "party.plan"
    lab.as_user("alice", "rollout", "plan", "--segment", "party", "--unit", unit, "--out", str(out))
    applied = json.loads(lab.as_user("alice", "rollout", "apply", str(out), "--yes", "--json").stdout)
    back = json.loads(lab.as_user("bob", "rollout", "rollback", applied["run"], "--yes", "--json").stdout)
    lab.as_user("carol", "config", "backup", unit)
    taken = json.loads(lab.as_user("carol", "config", "history", unit, "--json").stdout)
    assert [b["reason"] for b in taken] == [
        "on-demand",
        "plan-read",
        "pre-change",
        "post-change",
        "on-demand",
    ]
    secrets = [p.read_text().strip() for p in (Path(lab.info["state"]) / "secrets").iterdir()]
    return {"unit": unit, "run": applied["run"], "back": back["run"], "backups": taken, "secrets": secrets}


def test_show_and_diff_over_real_backups(lab: Lab, story: dict[str, Any]) -> None:
    unit, taken = story["unit"], story["backups"]
    pre, post = taken[2]["hash"][:12], taken[3]["hash"][:12]
    shown = lab.as_user("carol", "config", "show", unit)
    assert f"changed by bob (run {story['back']}, rollback)" in shown.stderr
    at_post = lab.as_user("carol", "config", "show", unit, "--at", post)
    assert f"changed by alice (run {story['run']}, verified)" in at_post.stderr
    diff = lab.as_user("carol", "config", "diff", unit, "--from", pre, "--to", post, check=False)
    assert diff.returncode == 1, diff.stderr
    added = [line for line in diff.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added and any("vpn-instance" in line or "vrf" in line for line in added), diff.stdout
    # the rollback left the device as it was before the change: no difference from the live config
    same = lab.as_user("carol", "config", "diff", unit, "--from", pre, "--to", "live", check=False)
    assert (same.returncode, same.stderr) == (0, ""), same.stdout
    assert same.stdout.endswith(": no difference\n")
    moved = lab.as_user("carol", "config", "diff", unit, "--from", post, "--to", "live", check=False)
    assert moved.returncode == 1 and "running (live)" in moved.stdout.splitlines()[1]
    texts = shown.stdout + at_post.stdout + diff.stdout + moved.stdout
    assert not any(secret in texts for secret in story["secrets"])


def test_audit_log_names_who_changed_the_unit(lab: Lab, story: dict[str, Any]) -> None:
    events = json.loads(lab.as_user("carol", "audit", "log", "--unit", story["unit"], "--json").stdout)
    assert [(e["action"], e["user"], e["run"]) for e in events] == [
        ("push", "alice", story["run"]),
        ("verified", "alice", story["run"]),
        ("rollback", "bob", story["back"]),
    ]
    table = lab.as_user("carol", "audit", "log").stdout
    assert "run-start" in table and "rollback-end" in table


def test_git_export_is_authored_by_who_changed_it(lab: Lab, story: dict[str, Any]) -> None:
    repo = lab.root / "archive"
    lab.as_user("carol", "config", "export-git", str(repo))
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--format=%an"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert log[-3:] == ["outside govnet", "alice", "bob"]  # plan-read, pre-change: nothing changed


def test_run_ids_complete_from_the_labs_store(lab: Lab, story: dict[str, Any]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "govnet"],
        cwd=ROOT,
        env={
            **os.environ,
            **lab.env,
            "_GOVNET_COMPLETE": "bash_complete",
            "COMP_WORDS": "govnet rollout rollback ",
            "COMP_CWORD": "3",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[:2] == [f"plain,{story['back']}", f"plain,{story['run']}"]
