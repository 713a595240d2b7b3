"""Shell completion (README, "Shell completion"): click's ``_GOVNET_COMPLETE`` protocol driven as
bash drives it (``COMP_WORDS``/``COMP_CWORD`` in the environment of a real ``govnet`` process),
completing unit ids from the inventory, run ids from the state store and plan files; a bad
inventory or no store is no completion, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from govnet.rollout import runs
from govnet.state.db import connect
from tests.helpers import DATA, ROOT, need
from tests.history.histkit import INVENTORY, make_store


def complete(words: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> list[str]:
    """What ``govnet`` offers for the last word of ``words`` (bash's protocol: ``type,value`` lines)."""
    parts = words.split(" ")
    done = subprocess.run(
        [sys.executable, "-m", "govnet"],
        cwd=cwd,
        env={
            **os.environ,
            "GOVNET_INVENTORY": str(INVENTORY),
            **(env or {}),
            "_GOVNET_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return [line for line in done.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A store with two runs (made with the store's own API)."""
    folder = tmp_path_factory.mktemp("state")
    with connect(folder) as conn:
        made = [
            runs.create(conn, kind, None, None, {"segment": "party"}, {}, [])
            for kind in ("apply", "rollback")
        ]
    return folder, made


def test_commands_and_subcommands_complete() -> None:
    assert complete("govnet co") == ["plain,config"]
    assert {"plain,show", "plain,diff", "plain,export-git", "plain,history"} <= set(
        complete("govnet config ")
    )
    assert complete("govnet audit l") == ["plain,log"]


def test_unit_ids_complete_from_the_inventory() -> None:
    assert complete("govnet config show sz-") == ["plain,sz-fagaiwei", "plain,sz-caizheng"]
    assert complete("govnet config diff zl") == ["plain,zl-wanjin"]
    assert complete("govnet audit log --unit sz-c") == ["plain,sz-caizheng"]
    assert complete("govnet rollout plan --segment intranet --unit zl") == ["plain,zl-wanjin"]
    assert complete("govnet inventory show core") == ["plain,core-city"]


def test_unit_ids_come_from_the_inventory_on_the_command_line() -> None:
    other = DATA / "valid"
    offered = complete(
        f"govnet config history --inventory {INVENTORY} sz-fa",
        env={"GOVNET_INVENTORY": str(other / "none.yml")},
    )
    assert offered == ["plain,sz-fagaiwei"]


def test_a_bad_inventory_is_no_completion_and_no_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("units: [\n")
    assert complete("govnet config show sz", env={"GOVNET_INVENTORY": str(broken)}) == []
    assert complete("govnet config show sz", env={"GOVNET_INVENTORY": str(tmp_path / "missing")}) == []


def test_run_ids_complete_from_the_state_store_newest_first(state: tuple[Path, list[str]]) -> None:
    folder, made = state
    env = {"GOVNET_STATE": str(folder)}
    offered = complete("govnet rollout status ", env=env)
    assert offered == [f"plain,{made[1]}", f"plain,{made[0]}"]
    assert complete(f"govnet rollout rollback {made[0][:-2]}", env=env) == [f"plain,{made[0]}"]
    assert complete(f"govnet rollout resume --state {folder} {made[1]}") == [f"plain,{made[1]}"]


def test_no_store_is_no_completion(tmp_path: Path) -> None:
    assert complete("govnet rollout status ", env={"GOVNET_STATE": str(tmp_path / "none")}) == []
    (tmp_path / "govnet.db").write_text("not a database")
    assert complete("govnet rollout status ", env={"GOVNET_STATE": str(tmp_path)}) == []


def test_plan_files_complete(tmp_path: Path) -> None:
    for name in ("party.plan", "intranet.plan", "notes.txt"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "plans").mkdir()
    offered = complete("govnet rollout apply ", cwd=tmp_path)
    assert offered == ["plain,intranet.plan", "plain,party.plan", "plain,plans/"]
    assert complete(f"govnet rollout show {tmp_path}/pa") == [f"plain,{tmp_path}/party.plan"]
    # no plan file here: the shell's own file completion
    assert complete(f"govnet rollout show {tmp_path}/plans/") == [f"file,{tmp_path}/plans/"]


def imported_while_completing(words: str) -> tuple[list[str], list[str]]:
    """What completing ``words`` offers, and which command modules and heavy libraries it imported."""
    probe = (
        "import os, sys\n"
        f"os.environ.update(_GOVNET_COMPLETE='bash_complete', COMP_WORDS={words!r}, COMP_CWORD='{len(words.split(' ')) - 1}')\n"
        f"os.environ['GOVNET_INVENTORY'] = {str(INVENTORY)!r}\n"
        "from govnet.cli.main import run\n"
        "try:\n    run([])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('govnet.cli.', 'netmiko', 'pydantic'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    *offered, imported = done.stdout.splitlines()
    return offered, imported.strip("[]").replace("'", "").split(", ")


def test_completing_a_command_name_imports_no_command() -> None:
    offered, imported = imported_while_completing("govnet ")
    assert "plain,rollout" in offered and "plain,audit" in offered
    assert imported == ["govnet.cli.main"]


def test_completing_a_unit_of_config_show_does_not_import_the_rollout_commands() -> None:
    offered, imported = imported_while_completing("govnet config show sz-c")
    assert offered == ["plain,sz-caizheng"]
    assert not [m for m in imported if m.startswith(("govnet.cli.rollout", "netmiko"))], imported


@pytest.mark.lab
def test_bash_completes_with_the_script_govnet_prints(tmp_path: Path) -> None:
    """The script from ``_GOVNET_COMPLETE=bash_source govnet``, sourced in a real bash."""
    need(shutil.which("bash") is not None, "needs bash")
    launcher = tmp_path / "bin" / "govnet"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} -m govnet "$@"\n')
    launcher.chmod(0o755)
    script = (
        'eval "$(_GOVNET_COMPLETE=bash_source govnet)"\n'
        "COMP_WORDS=(govnet config show sz-c); COMP_CWORD=3\n"
        "_govnet_completion govnet\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            "PATH": f"{launcher.parent}:{os.environ['PATH']}",
            "GOVNET_INVENTORY": str(INVENTORY),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.stdout, done.stderr) == ("sz-caizheng\n", "")
    for shell in ("zsh", "fish"):
        source = subprocess.run(
            [sys.executable, "-m", "govnet"],
            env={**os.environ, "_GOVNET_COMPLETE": f"{shell}_source"},
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"_GOVNET_COMPLETE={shell}_complete" in source.stdout


def test_backups_complete_by_hash_newest_first(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    env = {"GOVNET_STATE": str(store.state)}
    newest_first = [f"plain,{store.hashes[n][:12]}" for n in ("hand", "post", "pre", "first")]
    assert complete("govnet config show sz-fagaiwei --at ", env=env) == newest_first
    assert complete("govnet config diff sz-fagaiwei --from ", env=env) == [*newest_first, "plain,live"]
    assert complete(f"govnet config diff sz-fagaiwei --from 1 --to {store.hashes['post'][:3]}", env=env) == [
        f"plain,{store.hashes['post'][:12]}"
    ]
    assert complete("govnet config diff sz-fagaiwei --from 1 --to l", env=env) == ["plain,live"]
    assert complete("govnet config show nope --at ", env=env) == []
