"""``govnet config export-git DIR``: every backup in a Git repository, one file per device, one
commit per change, authored by who changed it (the audit trail), dated when it was backed up;
secrets masked; a second run adds only the new backups. Read back with the ``git`` binary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from govnet.state import backups
from govnet.state.db import connect, transaction
from tests.helpers import need
from tests.history.histkit import (
    COMMUNITY,
    HAND,
    HAND_COMMUNITY,
    HASHED,
    NTP,
    Store,
    cli,
    clock,
    make_store,
    where,
)

pytestmark = pytest.mark.lab


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    ).stdout


@pytest.fixture
def store(tmp_path: Path) -> Store:
    need(shutil.which("git") is not None, "needs git")
    return make_store(tmp_path / "state")


def test_export_makes_one_commit_per_change_by_who_made_it(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "archive"
    done = cli("config", "export-git", str(repo), *where(store))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{repo}: 4 commit(s) for 5 new backup(s) (backups up to id 5 exported)\n"
    log = git(repo, "log", "--reverse", "--format=%an|%ae|%ad|%cd|%s", "--date=iso-local")
    assert log.splitlines() == [
        f"outside govnet|outside-govnet@govnet.invalid|2026-12-01 08:00:00 +0000|2026-12-01 08:00:00 +0000|FGW-AS01 (sz-fagaiwei): on-demand backup {store.hashes['first'][:12]}",
        # the pre-change backup differs only by its timestamp line: no commit
        f"alice|alice@govnet.invalid|2026-12-02 08:05:00 +0000|2026-12-02 08:05:00 +0000|FGW-AS01 (sz-fagaiwei): post-change backup {store.hashes['post'][:12]}",
        f"outside govnet|outside-govnet@govnet.invalid|2026-12-02 09:00:00 +0000|2026-12-02 09:00:00 +0000|CZ-AS01 (sz-caizheng): on-demand backup {store.hashes['cz'][:12]}",
        f"outside govnet|outside-govnet@govnet.invalid|2026-12-03 08:00:00 +0000|2026-12-03 08:00:00 +0000|FGW-AS01 (sz-fagaiwei): on-demand backup {store.hashes['hand'][:12]}",
    ]
    assert f"Changed by alice in govnet run {store.run_id} (verified)." in git(
        repo, "log", "-1", "--format=%B", "HEAD~2"
    )
    assert "Changed outside govnet: after 2026-12-02 08:05:00, before 2026-12-03 08:00:00." in git(
        repo, "log", "-1", "--format=%B"
    )
    assert sorted(p.name for p in repo.iterdir()) == [".git", "CZ-AS01.cfg", "FGW-AS01.cfg"]
    text = (repo / "FGW-AS01.cfg").read_text()
    assert NTP in text and "snmp-agent community ****" in text and " description by hand" in text
    history = git(repo, "log", "-p", "--all")
    assert all(secret not in history for secret in (COMMUNITY, HAND_COMMUNITY, HASHED))
    assert "2026-12-03 08:00:00.004" not in text  # volatile lines are left out
    assert git(repo, "status", "--porcelain") == ""


def test_a_second_export_adds_only_the_new_backups(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "archive"
    cli("config", "export-git", str(repo), *where(store))
    again = cli("config", "export-git", str(repo), *where(store))
    assert again.stdout == f"{repo}: up to date (backups up to id 5 exported)\n"
    with clock("2026-12-04T08:00:00"), connect(store.state) as conn, transaction(conn):
        backups.save(
            conn, "sz-fagaiwei", "FGW-AS01", HAND.replace("by hand", "by hand, again"), "drift-check"
        )
    with clock("2026-12-04T09:00:00"), connect(store.state) as conn, transaction(conn):
        backups.save(conn, "sz-caizheng", "CZ-AS01", "sysname CZ-AS01\nreturn\n", "on-demand")  # unchanged
    more = cli("config", "export-git", str(repo), "--json", *where(store))
    assert more.stdout.replace(" ", "").replace("\n", "") == '{"commits":1,"backups":2,"last_backup":7}'
    assert git(repo, "rev-list", "--count", "HEAD") == "5\n"
    assert " description by hand, again" in (repo / "FGW-AS01.cfg").read_text()
    assert git(repo, "status", "--porcelain") == ""


def test_a_folder_that_is_not_a_repository_is_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    done = cli("config", "export-git", str(tmp_path / "busy"), *where(store))
    assert (done.returncode, done.stdout) == (1, "")
    assert (
        done.stderr
        == f"govnet: {tmp_path / 'busy'}: not empty and not a Git repository; choose another folder\n"
    )


def test_an_export_commits_to_the_branch_asked_for(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "archive"
    done = cli("config", "export-git", str(repo), "--branch", "configs/luohe", *where(store))
    assert done.returncode == 0, done.stderr
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/configs/luohe\n"
    assert git(repo, "rev-list", "--count", "configs/luohe") == "4\n"
    assert git(repo, "branch", "--list", "main") == ""


@pytest.mark.parametrize(
    ("branch", "message"),
    [
        ("bad..name", "govnet: --branch 'bad..name': not a valid Git branch name\n"),
        ("-x", "govnet: --branch '-x': not a valid Git branch name\n"),
        (
            "main",
            "govnet: {repo}: the work tree is on branch mine, the export writes main; "
            "check main out there, or give --branch mine\n",
        ),
    ],
)
def test_a_branch_that_cannot_be_written_is_refused(
    store: Store, tmp_path: Path, branch: str, message: str
) -> None:
    repo = tmp_path / "archive"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "mine")
    done = cli("config", "export-git", str(repo), f"--branch={branch}", *where(store))
    assert (done.returncode, done.stdout, done.stderr) == (1, "", message.format(repo=repo))
    assert git(repo, "rev-list", "--all") == ""  # nothing written
