"""``govnet report`` against a real Prometheus scraping a real daemon on the lab twin.

A unit's link goes down (``govnet lab fault UNIT link-down``) and comes back (``heal``): the
availability report names that outage with a start and an end, from the recording rules that
Prometheus evaluated live; the construction report counts the party rollout just applied and
the units Prometheus saw up, and no longer counts as not yet built (未建) what the rollout
applied, as the daemon's drift check exports it (``govnet_config_pending``); the HTML report
loads in headless Chromium with the Chinese names.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.exporters.promkit import Prometheus, lab_speed_rules, prometheus_config
from tests.helpers import need
from tests.monitor.daemonkit import DaemonProcess, Lab, govnet, lab_twin, until

CHROMIUM = ("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run")
QUIET = ("--disable-background-networking", "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, DaemonProcess, Prometheus]]:
    tmp = tmp_path_factory.mktemp("report-lab")
    with lab_twin(tmp) as lab:
        daemon = DaemonProcess(lab.daemon_config(tmp), tmp / "daemon.log").start()
        prom = None
        try:
            listen = daemon.base.removeprefix("http://")
            prom = Prometheus(prometheus_config(tmp, listen, lab_speed_rules(tmp)), tmp)
            yield lab, daemon, prom
        finally:
            if prom is not None:
                prom.stop()
            if daemon.alive():
                daemon.stop()


def up_in_prometheus(prom: Prometheus, unit: str) -> set[float]:
    return {float(r["value"][1]) for r in prom.query(f'max by (segment) (govnet_unit_up{{unit="{unit}"}})')}


def report(lab: Lab, prom: Prometheus, *args: str) -> subprocess.CompletedProcess[str]:
    """``govnet report ARGS`` against the test's Prometheus (and the lab's inventory: its timezone)."""
    site = ("--inventory", str(lab.inventory)) if args[0] == "availability" else ()
    return govnet(lab.state, "report", *args, *site, "--prometheus", prom.base)


def test_an_induced_outage_appears_with_start_and_end(stack: Any, tmp_path: Path) -> None:
    lab, _daemon, prom = stack
    listed = json.loads(
        govnet(lab.state, "inventory", "list", "--inventory", str(lab.inventory), "--json").stdout
    )
    unit = next(
        u for u in listed if {"intranet", "party"} <= set(u["segments"]) and u["kind"] != "aggregation"
    )
    ident = unit["id"]
    until(lambda: up_in_prometheus(prom, ident) == {1.0}, 90, f"{ident} up in Prometheus")
    until(lambda: prom.query("segment:govnet_unit_availability:ratio"), 60, "the recording rule evaluated")
    faulted = time.time()
    lab.cli("fault", ident, "link-down")
    until(lambda: 0.0 in up_in_prometheus(prom, ident), 90, f"{ident} down in Prometheus")
    lab.cli("heal", ident)
    until(lambda: up_in_prometheus(prom, ident) == {1.0}, 90, f"{ident} up again in Prometheus")
    healed = time.time()
    time.sleep(3)  # a few more up samples after the heal (not an assertion)
    result = report(lab, prom, "availability", "--since", "10m", "--step", "1s", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    mine = [o for o in data["outages"] if o["unit"] == ident]
    assert mine, data["outages"]
    assert {o["segment"] for o in mine} <= set(unit["segments"])
    for outage in mine:
        assert outage["end"] is not None, outage
        assert faulted - 2 <= outage["start"] < outage["end"] <= healed + 2
        assert 0 < outage["duration"] == outage["end"] - outage["start"]
        assert outage["name"] == unit["name"]
    assert ident in data["worst"]
    segments = {s["segment"]: s for s in data["segments"]}
    hit = mine[0]["segment"]
    assert segments[hit]["source"] == "recorded"
    assert segments[hit]["lowest"] < 1.0 and segments[hit]["units_down"] >= 1
    text = report(lab, prom, "availability", "--since", "10m", "--step", "1s").stdout
    assert f"| {unit['name']} ({ident}) | {hit} |" in text

    need(shutil.which("chromium") is not None, "missing binary: chromium (apt-get install chromium)")
    page = tmp_path / "availability.html"
    made = report(
        lab, prom, "availability", "--since", "10m", "--step", "1s", "--format", "html", "--out", str(page)
    )
    assert made.returncode == 0, made.stderr
    common = [*CHROMIUM, *QUIET, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    assert unit["name"] in dom and dom.count("<polyline") >= 1 and "<svg" in dom
    shot = tmp_path / "availability.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1100,1400", page.as_uri()],
        capture_output=True,
        timeout=90,
        check=True,
    )
    assert shot.stat().st_size > 10_000


def pending_units(prom: Prometheus, segment: str, units: list[str]) -> set[str]:
    """The units Prometheus says are not yet built on ``segment`` (nodes left out)."""
    found = prom.query(f'max by (unit) (govnet_config_pending{{segment="{segment}"}}) == 1')
    return {r["metric"]["unit"] for r in found} & set(units)


def check_again(daemon: DaemonProcess, prom: Prometheus) -> None:
    """SIGHUP runs the daemon's drift check again; wait until every unit's new result is scraped."""
    since = time.time()
    daemon.signal(signal.SIGHUP)
    newer = f"count(govnet_config_last_check_timestamp_seconds > {since:.3f})"
    until(
        lambda: prom.query(f"{newer} == count(govnet_config_last_check_timestamp_seconds)"),
        120,
        "a drift check of every unit after the reload",
    )


def construction(lab: Lab, prom: Prometheus, state: Path) -> dict[str, dict[str, Any]]:
    where = ("--inventory", str(lab.inventory), "--state", str(state))
    result = report(lab, prom, "construction", *where, "--json")
    assert result.returncode == 0, result.stderr
    return {r["label"]: r for r in json.loads(result.stdout)["rows"]}


def test_construction_counts_a_rollout_and_what_is_up(stack: Any, tmp_path: Path) -> None:
    """The rollout goes into the daemon's own state store: the daemon then finds the party part
    applied (no longer pending), and the report counts it configured and no longer not yet built."""
    lab, daemon, prom = stack
    state = Path(yaml.safe_load(daemon.config.read_text())["state"])
    plan = tmp_path / "party.plan"
    inventory = str(lab.inventory)
    listed = json.loads(govnet(lab.state, "inventory", "list", "--inventory", inventory, "--json").stdout)
    party = [u["id"] for u in listed if "party" in u["segments"]]
    check_again(daemon, prom)
    before = pending_units(prom, "party", party)
    assert before, "a fresh lab: party parts never applied are pending"
    assert construction(lab, prom, state)["party"]["not_built"] == len(before)
    where = ("--inventory", inventory, "--state", str(state))
    govnet(lab.state, "rollout", "plan", "--segment", "party", *where, "--out", str(plan))
    applied = govnet(lab.state, "rollout", "apply", str(plan), "--yes", "--json", *where, check=False)
    results = {u["id"]: u["result"] for u in json.loads(applied.stdout)["units"]}
    configured = {u for u, r in results.items() if r in ("ok", "changed")}
    assert configured, results
    changed = {u for u, r in results.items() if r == "changed"} & set(party)
    assert changed and changed <= before, "what a rollout changed on a unit was pending"
    check_again(daemon, prom)
    after = pending_units(prom, "party", party)
    assert after == before - configured
    until(
        lambda: len(prom.query('max by (unit) (govnet_unit_up{segment="party"}) == 1')) >= len(party),
        60,
        "party up",
    )
    rows = construction(lab, prom, state)
    assert rows["party"]["units"] == len(party)
    assert rows["party"]["configured"] == len(configured & set(party))
    assert rows["party"]["not_built"] == len(after)
    assert rows["party"]["verified_up"] == len(party)
    assert rows["intranet"]["configured"] == 0
    intranet = [u["id"] for u in listed if "intranet" in u["segments"]]
    assert rows["intranet"]["not_built"] == len(pending_units(prom, "intranet", intranet))
