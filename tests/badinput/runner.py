"""Run one bad-input catalogue case through the real ``govnet`` CLI, as a user would.

Every case runs ``python -m govnet ARGS`` in a subprocess from the repository root, with a
fresh scratch folder: ``{tmp}`` in the arguments is that folder and ``{state}`` a state
directory inside it that must never be created. ``as_nobody`` cases run without root (the
tests run as root, and root reads a mode-000 file anyway); ``as_root`` cases get their message only
as root (the lab commands say "needs root" first otherwise): both are lab-tier tests. ``setup`` prepares the scratch
folder: ``unreadable`` copies the fixture there as ``unreadable`` with mode 000, ``locked``
copies it to ``locked/file`` in a folder only root may enter, ``fake-lab``
records an empty lab ``zz`` so a fault names an unknown unit without a lab being built.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests import nobody
from tests.helpers import DATA, ROOT

CATALOGUE = DATA / "catalogue.yml"
NOBODY = list(nobody.AS_NOBODY)


@dataclass(frozen=True)
class Case:
    kind: str
    area: str
    args: list[str]
    code: int
    stderr: list[str]
    fixture: str | None = None
    as_nobody: bool = False
    as_root: bool = False
    setup: str | None = None


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def needs_root(case: Case) -> bool:
    return case.as_nobody or case.as_root


def load() -> list[Case]:
    return [Case(**entry) for entry in yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))]


def tree_digest(path: Path) -> str:
    """Names, modes and contents of every file under ``path`` (empty when it does not exist)."""
    digest = hashlib.sha256()
    if path.exists():
        for item in sorted(path.rglob("*")):
            info = item.lstat()
            digest.update(f"{item.relative_to(path)} {info.st_mode:o}\0".encode())
            if item.is_file() and not item.is_symlink():
                digest.update(item.read_bytes())
    return digest.hexdigest()


def prepare(case: Case, tmp: Path) -> None:
    tmp.chmod(0o755)
    if case.setup == "unreadable":
        assert case.fixture is not None
        target = tmp / "unreadable"
        shutil.copyfile(ROOT / case.fixture, target)
        target.chmod(0)
    elif case.setup == "locked":
        assert case.fixture is not None
        locked = tmp / "locked"
        locked.mkdir(mode=0o700)
        shutil.copyfile(ROOT / case.fixture, locked / "file")
    elif case.setup == "fake-lab":
        lab = tmp / "lab" / "zz"
        lab.mkdir(parents=True)
        (lab / "twin.json").write_text(json.dumps({"units": [], "nodes": [], "network": "198.18.128.0/17"}))
    elif case.setup is not None:
        raise AssertionError(f"{case.kind}: unknown setup {case.setup!r}")


def run(case: Case, tmp: Path) -> Outcome:
    args = [a.replace("{tmp}", str(tmp)).replace("{state}", str(tmp / "state")) for a in case.args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVNET_")}
    env.update(GOVNET_LAB_STATE=str(tmp / "lab"), GOVNET_STATE=str(tmp / "state"), COLUMNS="200")
    where = nobody.install() if case.as_nobody else nobody.Install(sys.executable, ROOT)
    command = [*NOBODY] if case.as_nobody else []
    command += [where.python, "-m", "govnet", *args]
    done = subprocess.run(
        command,
        cwd=where.root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr.replace(str(tmp), "{tmp}"))


def expected_lines(case: Case) -> list[str]:
    return list(case.stderr)


def record(cases: list[Case], scratch: Path) -> list[dict[str, Any]]:
    """What each case prints now (to write a new entry's expectation, then review it by eye)."""
    found = []
    for index, case in enumerate(cases):
        tmp = scratch / str(index)
        tmp.mkdir(parents=True)
        prepare(case, tmp)
        outcome = run(case, tmp)
        found.append({"kind": case.kind, "code": outcome.code, "stderr": outcome.stderr.splitlines()})
    return found


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for row in record(load(), Path(folder)):
            print(yaml.safe_dump([row], allow_unicode=True, width=1000, sort_keys=False), end="")
