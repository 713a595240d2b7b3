"""Every stored backup as a Git repository, so the archive reads with the tools people already
use (``git log -p``, tig, a GitLab mirror), as Oxidized keeps its.

One file per device (``DEVICE.cfg``), one commit per change, in the order the backups were
taken: a backup whose text (volatile lines left out, secrets masked) is the same as its
device's previous one adds no commit. The author is who changed the device, from the audit
trail: the operator of the govnet run that left it so (its apply, restore or rollback) between
the previous backup and this one, else ``outside govnet``; author and commit dates are the
backup's. The commits are streamed into ``git fast-import`` (one process, not three per commit)
and the work tree is moved forward with ``git read-tree``; the newest backup exported is kept
in ``.git/govnet-export``, so a second run adds only the backups since.

Git runs with an explicit environment (no user or system configuration, identities given), so
the export needs no ``git config`` and behaves the same for every user.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govnet.devices.normalise import stable_text
from govnet.errors import GovnetError
from govnet.rollout.review import mask_line
from govnet.state import history
from govnet.state.backups import Backup, get_blob

BRANCH = "main"
"""The branch an export commits to unless told another (``--branch``)."""
MARK_FILE = "govnet-export"
COMMITTER = "govnet <govnet@govnet.invalid>"


@dataclass(frozen=True)
class Exported:
    """What one export did: commits added, backups read, the newest backup id now exported."""

    commits: int
    backups: int
    last: int

    def as_dict(self) -> dict[str, Any]:
        return {"commits": self.commits, "backups": self.backups, "last_backup": self.last}

    def describe(self, folder: Path) -> str:
        if not self.backups:
            return f"{folder}: up to date (backups up to id {self.last} exported)"
        return (
            f"{folder}: {self.commits} commit(s) for {self.backups} new backup(s) "
            f"(backups up to id {self.last} exported)"
        )


def rendered(platform: str | None, text: str) -> str:
    """A backup as the repository holds it: volatile lines left out, secrets masked."""
    stable = stable_text(platform, text) if platform else text
    return "".join(mask_line(line) + "\n" for line in stable.splitlines())


class Git:
    """The ``git`` binary on one repository, with an environment of its own."""

    def __init__(self, folder: Path, branch: str = BRANCH) -> None:
        binary = shutil.which("git")
        if binary is None:
            raise GovnetError("git is not installed (needed by config export-git)")
        self.binary, self.folder, self.branch = binary, folder, branch
        self.ref = f"refs/heads/{branch}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "LANG": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
        }

    def run(self, *args: str, stdin: bytes | None = None, check: bool = True) -> str:
        done = subprocess.run(
            [self.binary, "-C", str(self.folder), *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            check=False,
        )
        if check and done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines() or ["(no message)"]
            raise GovnetError(f"{self.folder}: git {args[0]} failed: {why[-1]}")
        return done.stdout.decode(errors="replace").strip()

    def open(self) -> int:
        """Make the repository if needed; the newest backup id already exported (0: none)."""
        named = subprocess.run(
            [self.binary, "check-ref-format", "--branch", self.branch],
            env=self.env,
            capture_output=True,
            check=False,
        )
        if named.returncode != 0 or named.stdout.decode(errors="replace").strip() != self.branch:
            raise GovnetError(f"--branch {self.branch!r}: not a valid Git branch name")
        if not (self.folder / ".git").is_dir():
            if self.folder.exists() and any(self.folder.iterdir()):
                raise GovnetError(f"{self.folder}: not empty and not a Git repository; choose another folder")
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise GovnetError(f"{self.folder}: cannot create: {exc.strerror or exc}") from None
            self.run("init", "-q", "-b", self.branch)
        checked_out = self.run("symbolic-ref", "-q", "HEAD", check=False).removeprefix("refs/heads/")
        if checked_out != self.branch:
            raise GovnetError(
                f"{self.folder}: the work tree is on branch {checked_out or '(detached)'}, the export "
                f"writes {self.branch}; check {self.branch} out there, or give --branch {checked_out or 'NAME'}"
            )
        mark = self.folder / ".git" / MARK_FILE
        text = mark.read_text().strip() if mark.exists() else "0"
        return int(text) if text.isdigit() else 0

    def head(self) -> str:
        return self.run("rev-parse", "-q", "--verify", self.ref, check=False)

    def import_stream(self, stream: bytes, old: str, last: int) -> None:
        """Add the commits, move the work tree from ``old`` to the new head, record ``last``."""
        self.run("fast-import", "--quiet", stdin=stream)
        if old:
            self.run("read-tree", "-m", "-u", old, self.ref)
        else:
            self.run("read-tree", "-u", "--reset", self.ref)
        (self.folder / ".git" / MARK_FILE).write_text(f"{last}\n")


def export(
    conn: sqlite3.Connection, folder: Path, platforms: Mapping[str, str], branch: str = BRANCH
) -> Exported:
    """Commit every backup newer than the last export to ``branch`` (``platforms``: device →
    platform, to leave volatile lines out; a device missing from it is exported as it was stored)."""
    git = Git(folder, branch)
    done = git.open()
    rows = conn.execute("SELECT * FROM backups WHERE id>? ORDER BY id", (done,)).fetchall()
    fresh = [
        Backup(r["id"], r["unit"], r["device"], r["hash"], r["taken"], r["reason"], r["run_id"]) for r in rows
    ]
    if not fresh:
        return Exported(0, 0, done)
    old = git.head()
    stream, commits = _stream(conn, fresh, done, platforms, git.ref, first=not old)
    if commits:
        git.import_stream(stream, old, fresh[-1].id)
    else:
        (folder / ".git" / MARK_FILE).write_text(f"{fresh[-1].id}\n")
    return Exported(commits, len(fresh), fresh[-1].id)


def _stream(
    conn: sqlite3.Connection,
    fresh: list[Backup],
    done: int,
    platforms: Mapping[str, str],
    ref: str,
    first: bool,
) -> tuple[bytes, int]:
    """The fast-import commands for the backups that change their device's file."""
    seen: dict[str, tuple[str, Backup | None]] = {}
    chunks: list[bytes] = []
    for backup in fresh:
        if backup.device not in seen:
            seen[backup.device] = _exported(conn, backup.device, done, platforms)
        text = rendered(platforms.get(backup.device), get_blob(conn, backup.hash))
        before, previous = seen[backup.device]
        seen[backup.device] = (text, backup)
        if text == before:
            continue
        chunks.append(_commit(conn, backup, previous, text, ref, parent=not first and not chunks))
    return b"".join(chunks), len(chunks)


def _exported(
    conn: sqlite3.Connection, device: str, done: int, platforms: Mapping[str, str]
) -> tuple[str, Backup | None]:
    """The device's text as the last export left it, and the backup it came from."""
    row = conn.execute(
        "SELECT * FROM backups WHERE device=? AND id<=? ORDER BY id DESC LIMIT 1", (device, done)
    ).fetchone()
    if row is None:
        return "", None
    backup = Backup(
        row["id"], row["unit"], row["device"], row["hash"], row["taken"], row["reason"], row["run_id"]
    )
    return rendered(platforms.get(device), get_blob(conn, backup.hash)), backup


def _commit(
    conn: sqlite3.Connection, backup: Backup, previous: Backup | None, text: str, ref: str, parent: bool
) -> bytes:
    since = previous.taken if previous is not None else 0.0
    change = history.changed_by(conn, backup.unit, backup.device, since, backup.taken)
    author = _identity(change.user if change else history.OUTSIDE)
    if change is not None:
        why = f"Changed by {change.user} in govnet run {change.run_id} ({change.action})."
    elif previous is not None:
        why = (
            f"Changed outside govnet: after {history.stamp(previous.taken)}, "
            f"before {history.stamp(backup.taken)}."
        )
    else:
        why = "First backup of this device."
    message = (
        f"{backup.device} ({backup.unit}): {backup.reason} backup {backup.hash[:12]}\n\n{why}\n"
        + (f"Run: {backup.run_id}\n" if backup.run_id else "")
        + f"\nGovnet-Backup: {backup.id}\nGovnet-Hash: {backup.hash}\n"
    ).encode()
    when = f"{int(backup.taken)} +0000"
    body = text.encode()
    return b"".join(
        [
            f"commit {ref}\nauthor {author} {when}\ncommitter {COMMITTER} {when}\n".encode(),
            f"data {len(message)}\n".encode(),
            message,
            f"from {ref}^0\n".encode() if parent else b"",
            f"M 100644 inline {_path(backup.device)}\ndata {len(body)}\n".encode(),
            body,
            b"\n",
        ]
    )


def _identity(user: str) -> str:
    """``name <email>`` for git: the OS user (or ``outside govnet``) at an address that is no one's.

    >>> _identity("alice"), _identity("outside govnet")
    ('alice <alice@govnet.invalid>', 'outside govnet <outside-govnet@govnet.invalid>')
    """
    local = re.sub(r"[^A-Za-z0-9._-]+", "-", user).strip("-") or "unknown"
    name = re.sub(r"[<>\n]", "", user)
    return f"{name} <{local}@govnet.invalid>"


def _path(device: str) -> str:
    """The device's file in the repository (a name safe as one path component)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", device) + ".cfg"
