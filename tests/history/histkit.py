"""A state store with a known history, made through govnet's own store API at chosen times, and
the CLI run as a user runs it (a subprocess, local time UTC so that printed times are fixed).

The history of sz-fagaiwei (FGW-AS01, Huawei VRP), every backup holding secrets in clear as a
device shows them (an SNMP community, a password hash):

1. 2026-12-01 08:00  on-demand     the config govnet first saw (made outside govnet)
2. 2026-12-02 08:00  pre-change    of run R by alice: the same config, another timestamp line
3. 2026-12-02 08:05  post-change   run R pushed an NTP server (audit: run-start, push, verified)
4. 2026-12-03 08:00  on-demand     someone changed the community and a description by hand

sz-caizheng (CZ-AS01) has one backup, on 2026-12-02 09:00; zl-wanjin none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from govnet.rollout import runs
from govnet.state import audit, backups
from govnet.state.db import connect, transaction
from tests.helpers import DATA, ROOT

INVENTORY = DATA / "valid" / "minimal.yml"
COMMUNITY = "Cl3ar-C0mmunity-7e1"
HAND_COMMUNITY = "H4nd-C0mmunity-2b9"
HASHED = "$1a$SECRETHASH$x"
NTP = "ntp-service unicast-server 10.40.0.1"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def vrp(stamp: str, community: str, *more: str) -> str:
    """A VRP running config as a device prints it (with its volatile timestamp line)."""
    return (
        "\n".join(
            [
                stamp,
                "sysname FGW-AS01",
                f"snmp-agent community read cipher {community} acl 2990",
                "aaa",
                f" local-user admin password irreversible-cipher {HASHED}",
                *more,
                "return",
            ]
        )
        + "\n"
    )


FIRST = vrp("2026-12-01 08:00:00.001+08:00", COMMUNITY)
PRE = vrp("2026-12-02 08:00:00.002+08:00", COMMUNITY)
POST = vrp("2026-12-02 08:05:00.003+08:00", COMMUNITY, NTP)
HAND = vrp(
    "2026-12-03 08:00:00.004+08:00",
    HAND_COMMUNITY,
    NTP,
    "interface GigabitEthernet0/0/1",
    " description by hand",
)


@dataclass(frozen=True)
class Store:
    state: Path
    run_id: str
    ids: dict[str, int]
    hashes: dict[str, str]


@contextmanager
def clock(when: str, user: str = "alice") -> Iterator[None]:
    """govnet's store writes as ``user`` at ``when`` (UTC)."""
    with mock.patch("time.time", return_value=at(when)), mock.patch.dict(os.environ, {"SUDO_USER": user}):
        yield


def make_store(state: Path) -> Store:
    ids: dict[str, int] = {}
    hashes: dict[str, str] = {}

    def backup(name: str, when: str, unit: str, device: str, text: str, reason: str, run: str | None) -> None:
        with clock(when), connect(state) as conn, transaction(conn):
            saved = backups.save(conn, unit, device, text, reason, run)
        ids[name], hashes[name] = saved.id, saved.hash

    backup("first", "2026-12-01T08:00:00", "sz-fagaiwei", "FGW-AS01", FIRST, "on-demand", None)
    with clock("2026-12-02T07:59:00"), connect(state) as conn:
        run_id = runs.create(conn, "apply", "intranet.plan", "h", {"segment": "intranet"}, {}, [])
        audit.append(conn, state, "run-start", {"plan": "intranet.plan", "units": 1}, run_id=run_id)
    backup("pre", "2026-12-02T08:00:00", "sz-fagaiwei", "FGW-AS01", PRE, "pre-change", run_id)
    with clock("2026-12-02T08:01:00"), connect(state) as conn:
        detail = {"device": "FGW-AS01", "commands": [NTP], "backup": hashes["pre"]}
        audit.append(conn, state, "push", detail, run_id=run_id, unit="sz-fagaiwei")
    with clock("2026-12-02T08:05:00"), connect(state) as conn:
        detail = {"device": "FGW-AS01", "after": backups.text_hash(POST)}
        audit.append(conn, state, "verified", detail, run_id=run_id, unit="sz-fagaiwei")
    backup("post", "2026-12-02T08:05:00", "sz-fagaiwei", "FGW-AS01", POST, "post-change", run_id)
    with clock("2026-12-02T08:06:00"), connect(state) as conn:
        audit.append(conn, state, "run-end", {"stopped": False, "results": {"changed": 1}}, run_id=run_id)
    backup(
        "cz", "2026-12-02T09:00:00", "sz-caizheng", "CZ-AS01", "sysname CZ-AS01\nreturn\n", "on-demand", None
    )
    backup("hand", "2026-12-03T08:00:00", "sz-fagaiwei", "FGW-AS01", HAND, "on-demand", None)
    return Store(state, run_id, ids, hashes)


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``govnet ARGS`` in a subprocess, in UTC, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "govnet", *args],
        cwd=cwd,
        env={**os.environ, "TZ": "UTC", "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def where(store: Store) -> list[str]:
    return ["--inventory", str(INVENTORY), "--state", str(store.state)]
