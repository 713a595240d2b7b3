"""History through the real CLI (a subprocess, as a user runs it) against a store with a known
history (tests/history/histkit.py): ``config show`` picks a backup by id, hash prefix or time and
masks its secrets, ``config diff --from --to`` compares two backups like diff(1), ``audit log``
says who changed what, when; every bad input is one line (tests/data/history/bad-inputs.yml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.state import backups
from govnet.state.db import connect, transaction
from tests.helpers import DATA
from tests.history.histkit import (
    COMMUNITY,
    HAND_COMMUNITY,
    HASHED,
    INVENTORY,
    NTP,
    Store,
    cli,
    make_store,
    where,
)

BAD_INPUTS: list[dict[str, Any]] = yaml.safe_load((DATA / "history" / "bad-inputs.yml").read_text())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return make_store(tmp_path_factory.mktemp("history"))


def secret_free(text: str) -> bool:
    return all(secret not in text for secret in (COMMUNITY, HAND_COMMUNITY, HASHED))


def test_show_prints_the_newest_backup_masked_and_says_who_changed_it(store: Store) -> None:
    shown = cli("config", "show", "sz-fagaiwei", *where(store))
    assert shown.returncode == 0, shown.stderr
    assert secret_free(shown.stdout + shown.stderr)
    lines = shown.stdout.splitlines()
    assert "snmp-agent community ****" in lines and " local-user admin password ****" in lines
    assert " description by hand" in lines and lines[-1] == "return"
    assert shown.stderr.splitlines() == [
        f"# backup {store.ids['hand']} ({store.hashes['hand'][:12]}) of FGW-AS01 taken 2026-12-03 08:00:00, "
        "on-demand; changed outside govnet"
    ]
    with connect(store.state, create=False) as conn:  # the store keeps the device's full text
        assert HAND_COMMUNITY in backups.get_blob(conn, store.hashes["hand"])


@pytest.mark.parametrize(
    ("at", "name"),
    [
        ("{first_id}", "first"),
        ("{post_hash}", "post"),
        ("2026-12-02T08:04:59", "pre"),  # the backup in force at that moment
        ("2026-12-02T16:05:00+08:00", "post"),  # with an offset
        ("2026-12-02", "cz-day"),  # a date: as the day left it
    ],
)
def test_show_at_an_id_a_hash_prefix_or_a_time(store: Store, at: str, name: str) -> None:
    selector = at.format(first_id=store.ids["first"], post_hash=store.hashes["post"][:8])
    shown = cli("config", "show", "sz-fagaiwei", "--at", selector, *where(store))
    assert shown.returncode == 0, shown.stderr
    expected = "post" if name == "cz-day" else name
    assert shown.stderr.startswith(
        f"# backup {store.ids[expected]} ({store.hashes[expected][:12]}) of FGW-AS01"
    )
    assert (NTP in shown.stdout) == (expected == "post")
    assert secret_free(shown.stdout)


def test_show_names_who_changed_it_from_the_audit_trail(store: Store) -> None:
    post = cli("config", "show", "sz-fagaiwei", "--at", str(store.ids["post"]), *where(store))
    assert post.stderr.strip().endswith(f"changed by alice (run {store.run_id}, verified)")
    pre = cli("config", "show", "sz-fagaiwei", "--at", str(store.ids["pre"]), *where(store))
    assert pre.stderr.strip().endswith("unchanged since the backup before")  # a timestamp line only
    first = cli("config", "show", "sz-fagaiwei", "--at", "2026-12-01T09:00", *where(store))
    assert first.stderr.strip().endswith("the first backup of FGW-AS01")


def test_show_json(store: Store) -> None:
    shown = cli("config", "show", "sz-fagaiwei", "--at", str(store.ids["post"]), "--json", *where(store))
    [data] = json.loads(shown.stdout)
    assert data["backup"] == store.ids["post"] and data["hash"] == store.hashes["post"]
    assert (data["unit"], data["device"], data["reason"], data["run"]) == (
        "sz-fagaiwei",
        "FGW-AS01",
        "post-change",
        store.run_id,
    )
    assert NTP in data["text"] and secret_free(shown.stdout)


def test_diff_of_two_backups_exits_1_with_the_change_masked(store: Store) -> None:
    diff = cli(
        "config",
        "diff",
        "sz-fagaiwei",
        "--from",
        "2026-12-02T08:03",
        "--to",
        str(store.ids["hand"]),
        *where(store),
    )
    assert diff.returncode == 1, diff.stderr
    assert secret_free(diff.stdout + diff.stderr)
    lines = diff.stdout.splitlines()
    assert (
        lines[0]
        == f"--- FGW-AS01 backup {store.ids['pre']} ({store.hashes['pre'][:12]}, 2026-12-02 08:00:00)"
    )
    assert (
        lines[1]
        == f"+++ FGW-AS01 backup {store.ids['hand']} ({store.hashes['hand'][:12]}, 2026-12-03 08:00:00)"
    )
    assert {
        "-snmp-agent community ****",
        "+snmp-agent community ****",
        f"+{NTP}",
        "+ description by hand",
    } <= set(lines)
    assert not any("2026-12-0" in line for line in lines[2:])  # timestamp lines are never a difference


def test_diff_exits_0_when_only_volatile_lines_differ(store: Store) -> None:
    diff = cli(
        "config",
        "diff",
        "sz-fagaiwei",
        "--from",
        store.hashes["first"][:10],
        "--to",
        str(store.ids["pre"]),
        *where(store),
    )
    assert (diff.returncode, diff.stdout, diff.stderr) == (0, "FGW-AS01: no difference\n", "")


def test_diff_without_from_and_to_still_compares_with_the_intent(store: Store) -> None:
    diff = cli("config", "diff", "sz-fagaiwei", "--templates", "configs", *where(store))
    assert diff.returncode == 1, diff.stderr
    assert diff.stdout.splitlines()[1] == "+++ FGW-AS01 intended"


def test_audit_log_says_who_changed_what_when(store: Store) -> None:
    log = cli("audit", "log", *where(store))
    assert log.returncode == 0, log.stderr
    rows = [line.split(None, 5) for line in log.stdout.splitlines()]
    assert log.stdout.splitlines()[0].split() == ["time", "user", "action", "run", "unit", "what"]
    assert [r[1:3] for r in rows[1:]] == [
        ["07:59:00", "alice"],
        ["08:01:00", "alice"],
        ["08:05:00", "alice"],
        ["08:06:00", "alice"],
    ]
    text = log.stdout
    assert (
        f"push       {store.run_id}  sz-fagaiwei  FGW-AS01: 1 line(s) pushed (before: backup {store.hashes['pre'][:12]})"
        in text
    )
    assert log.stderr == "4 event(s)\n"
    unit = cli("audit", "log", "--unit", "fagaiwei", *where(store))  # a slug names the unit too
    assert [line.split()[3] for line in unit.stdout.splitlines()[1:]] == ["push", "verified"]
    window = cli("audit", "log", "--since", "2026-12-02T08:01", "--until", "2026-12-02T08:05", *where(store))
    assert [line.split()[3] for line in window.stdout.splitlines()[1:]] == ["push", "verified"]
    none = cli("audit", "log", "--since", "2026-12-03", *where(store))
    assert (none.returncode, none.stdout, none.stderr) == (0, "", "no audit events match\n")


def test_audit_log_json(store: Store) -> None:
    log = cli("audit", "log", "--json", "--until", "2026-12-02T08:01", *where(store))
    data = json.loads(log.stdout)
    assert [(e["action"], e["user"], e["unit"]) for e in data] == [
        ("run-start", "alice", None),
        ("push", "alice", "sz-fagaiwei"),
    ]
    assert data[1]["time"] == "2026-12-02T08:01:00+00:00" and data[1]["run"] == store.run_id
    assert data[1]["detail"]["commands"] == [NTP]
    verified = cli("audit", "verify", "--state", str(store.state))
    assert verified.returncode == 0, verified.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c["kind"] for c in BAD_INPUTS])
def test_bad_input_is_one_line(store: Store, case: dict[str, Any]) -> None:
    done = cli(*case["args"], *where(store))
    expected = case["stderr"].format(inventory=INVENTORY)
    assert (done.returncode, done.stderr.splitlines(), done.stdout) == (case["code"], [expected], "")


def test_a_missing_store_is_one_line(tmp_path: Path) -> None:
    for args in (["config", "show", "sz-fagaiwei", "--inventory", str(INVENTORY)], ["audit", "log"]):
        done = cli(*args, "--state", str(tmp_path / "none"))
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
        assert "no govnet state here" in done.stderr and not (tmp_path / "none").exists()


def test_a_unit_no_longer_in_the_inventory_keeps_its_history(tmp_path: Path) -> None:
    """Its backups stay readable by id, as while the inventory is broken (no platform: no
    volatile lines left out, secrets still masked)."""
    with connect(tmp_path) as conn, transaction(conn):
        backups.save(
            conn,
            "old-unit",
            "OLD-AS01",
            f"sysname OLD\nsnmp-agent community read cipher {COMMUNITY}\n",
            "on-demand",
        )
    broken = tmp_path / "broken.yml"
    broken.write_text("units: [\n")
    for inventory in (INVENTORY, broken):
        shown = cli("config", "show", "old-unit", "--inventory", str(inventory), "--state", str(tmp_path))
        assert (shown.returncode, shown.stdout) == (0, "sysname OLD\nsnmp-agent community ****\n"), (
            shown.stderr
        )
    missing = cli("config", "show", "other", "--inventory", str(broken), "--state", str(tmp_path))
    assert missing.returncode == 1 and missing.stderr.startswith(f"{broken}:")  # the inventory's own error
