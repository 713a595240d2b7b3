"""Operating the daemon against the lab twin: its HTTP surface, the status page in a real
browser, SIGHUP reloads (bad config kept out, good change applied), and ``govnet probe``.

One lab and one daemon (reading copies of the lab's config and inventory, which the reload
tests edit and restore) for the module.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.inventory.loader import load
from govnet.monitor import once
from tests.helpers import ROOT, need
from tests.monitor.daemonkit import DaemonProcess, Lab, Metrics, watching
from tests.nobody import install as nobody_install

CHROMIUM = ("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run")
QUIET = ("--disable-background-networking", "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ops")


@pytest.fixture(scope="module")
def daemon(lab: Lab, work: Path) -> Iterator[DaemonProcess]:
    with watching(lab, work, 30) as proc:
        yield proc


@pytest.fixture
def healed(lab: Lab, daemon: DaemonProcess) -> Iterator[DaemonProcess]:
    yield daemon
    lab.heal_all()


def addresses(inventory: Path) -> int:
    inv = load(inventory).inventory
    return sum(len(e.segments) for e in [*inv.nodes, *inv.units])


def test_http_endpoints(daemon: DaemonProcess) -> None:
    daemon.until(lambda: daemon.metrics().get("govnet_unit_up"), 60, "a rendered cycle")
    health = daemon.request("/healthz")
    assert health.status == 200 and health.headers["Content-Type"] == "application/json"
    assert json.loads(health.body)["status"] == "ok"
    zipped = daemon.request("/metrics", headers={"Accept-Encoding": "gzip"})
    assert zipped.status == 200 and zipped.headers.get("Content-Encoding") == "gzip"
    assert Metrics.parse(gzip.decompress(zipped.body).decode()).get("govnet_unit_up")
    plain = daemon.request("/metrics")
    assert "Content-Encoding" not in plain.headers and plain.body.startswith(b"# HELP")
    assert daemon.request("/nope").status == 404
    post = daemon.request("/metrics", method="POST")
    assert post.status == 405 and post.headers.get("Allow") == "GET, HEAD"
    head = daemon.request("/healthz", method="HEAD")
    assert head.status == 200 and head.body == b""
    status = daemon.status()
    assert {"site", "segments", "units", "isolation", "cycles", "events"} <= set(status)
    assert set(status["segments"]) == {"intranet", "party", "extranet"}
    host, port = daemon.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"garbage\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")


def test_status_page_shows_a_down_unit_and_isolation_in_chromium(
    healed: DaemonProcess, lab: Lab, tmp_path: Path
) -> None:
    need(shutil.which("chromium") is not None, "missing binary: chromium (apt-get install chromium)")
    daemon, unit = healed, lab.units({"intranet", "party"})[0]["id"]
    lab.cli("fault", unit, "link-down")
    daemon.until(lambda: "down" in daemon.states(unit).values(), 60, f"{unit} down")
    daemon.until(lambda: daemon.status()["isolation"], 60, "isolation checked")
    # the lab's devices are not rolled out yet: pending rollout (not yet built), never drifted
    drifted = daemon.until(
        lambda: [c for c in daemon.status()["compliance"] if c["state"] == "pending"], 90, "a drift check"
    )
    assert not [c for c in daemon.status()["compliance"] if c["state"] == "drifted"]
    name = next(u["name"] for u in daemon.status()["units"] if u["unit"] == unit)
    url = daemon.base + "/"
    common = [*CHROMIUM, *QUIET, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=90, check=True)
    trouble = re.search(r'<table id="trouble">.*?</table>', dom.stdout, re.S)
    assert trouble and name in trouble.group(0) and f'data-unit="{unit}"' in trouble.group(0)
    isolation = re.search(r'<p class="(\w+)" id="isolation">([^<]*)</p>', dom.stdout)
    assert isolation and isolation.groups()[0] == "ok" and "isolation holds" in isolation.group(2)
    drift = re.search(r'<table id="drift">.*?</table>', dom.stdout, re.S)
    assert (
        drift
        and f'data-unit="{drifted[0]["unit"]}" data-state="pending"' in drift.group(0)
        and drifted[0]["name"] in drift.group(0)
        and "pending rollout" in drift.group(0)
        and "no change by govnet" not in drift.group(0)
    )
    shot = tmp_path / "page.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,900", url],
        capture_output=True,
        timeout=90,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    lab.cli("heal", unit)
    daemon.until(lambda: set(daemon.states(unit).values()) == {"up"}, 60, f"{unit} up again")


def test_sighup_with_an_invalid_config_keeps_the_running_one(daemon: DaemonProcess) -> None:
    good = daemon.config.read_text()
    lines = len(good.splitlines())
    daemon.config.write_text(good + "bogus: 1\n")
    try:
        daemon.signal(signal.SIGHUP)
        refused = (
            f"reload refused, keeping the running config: {daemon.config}:{lines + 1}: bogus: unknown key"
        )
        daemon.until(lambda: refused in daemon.log_text(), 30, "the refusal in the log")
    finally:
        daemon.config.write_text(good)
    assert daemon.alive() and daemon.request("/healthz").status == 200
    assert any(e["kind"] == "reload-refused" for e in daemon.status()["events"])
    assert daemon.metrics().get("govnet_unit_up")


def test_sighup_applies_a_valid_change_and_keeps_states(daemon: DaemonProcess, lab: Lab, work: Path) -> None:
    inventory = work / "inventory.yml"
    original = inventory.read_text()
    data = yaml.safe_load(original)
    gone = data["units"][-1]["id"]
    data["units"] = data["units"][:-1]
    watched = daemon.metrics().get1("govnet_units_watched")
    inventory.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    try:
        daemon.signal(signal.SIGHUP)
        daemon.until(
            lambda: (
                not daemon.metrics().select("govnet_unit_up", unit=gone)
                and not daemon.metrics().select("govnet_icmp_rtt_seconds", unit=gone)
            ),
            10,
            f"{gone}'s series gone",
        )
        assert daemon.metrics().get1("govnet_units_watched") == (watched or 0) - 1
        assert "reloaded" in daemon.log_text()
        assert all(u["state"] == "up" for u in daemon.status()["units"]), "a reload resets no state"
    finally:
        inventory.write_text(original)
        daemon.signal(signal.SIGHUP)
    daemon.until(lambda: daemon.metrics().get1("govnet_units_watched") == watched, 60, "all units back")


def test_sighup_with_the_inventory_gone_keeps_the_old_one(daemon: DaemonProcess, work: Path) -> None:
    inventory, away = work / "inventory.yml", work / "inventory.away"
    watched = daemon.metrics().get1("govnet_units_watched")
    inventory.rename(away)
    try:
        daemon.signal(signal.SIGHUP)
        daemon.until(
            lambda: f"inventory: no such file or folder: {inventory}" in daemon.log_text(),
            10,
            "the refusal in the log",
        )
        assert daemon.alive() and daemon.metrics().get1("govnet_units_watched") == watched
    finally:
        away.rename(inventory)


def test_probe_once_against_the_lab(healed: DaemonProcess, lab: Lab, govnet: Any) -> None:
    result = govnet("probe", "--json", "--inventory", str(lab.inventory))
    assert result.code == 0, result.err
    rows = result.json()
    assert rows and all({"unit", "segment", "state", "loss_ratio", "rtt_seconds"} <= set(r) for r in rows)
    assert {r["state"] for r in rows} == {"up"}
    unit = lab.units()[0]
    lab.cli("fault", unit["id"], "link-down")
    rows = govnet("probe", "--json", "--inventory", str(lab.inventory)).json()
    assert {r["state"] for r in rows if r["unit"] == unit["id"]} == {"down"}
    assert {r["state"] for r in rows if r["unit"] != unit["id"]} == {"up"}


def test_probe_refuses_what_is_not_allowed(lab: Lab, govnet: Any) -> None:
    result = govnet("probe", "--json", "--inventory", str(lab.inventory), "--allow", "127.0.0.0/8")
    assert result.code == 0
    assert {r["state"] for r in result.json()} == {"unknown"}
    count = addresses(lab.inventory)
    assert result.err.strip() == f"warning: {count} address(es) outside allowed_networks were not probed"


def test_probe_never_sends_to_the_shipped_inventory(govnet: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_probe(*args: Any) -> Any:
        raise AssertionError("an ICMP probe was built for the shipped inventory")

    monkeypatch.setattr(once, "make_probe", no_probe)
    result = govnet("probe", "--json")
    assert result.code == 0
    assert {r["state"] for r in result.json()} == {"unknown"}
    count = addresses(ROOT / "inventory")
    assert result.err.strip() == f"warning: {count} address(es) outside allowed_networks were not probed"


def test_probe_needs_only_cap_net_raw(lab: Lab) -> None:
    need(shutil.which("setpriv") is not None, "missing binary: setpriv")
    as_nobody = nobody_install()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o755)
        inventory = Path(folder) / "inventory.yml"  # the lab's own is root's, mode 0600
        inventory.write_text(lab.inventory.read_text())
        inventory.chmod(0o644)
        probe = ("-m", "govnet", "probe", "--json", "--inventory", str(inventory))
        caps = ("--inh-caps=+net_raw", "--ambient-caps=+net_raw")
        raw, bare = (
            subprocess.run(
                command, cwd=as_nobody.root, capture_output=True, text=True, timeout=120, check=False
            )
            for command in (as_nobody.command(*probe, caps=caps), as_nobody.command(*probe))
        )
    assert raw.returncode == 0, raw.stderr
    assert {r["state"] for r in json.loads(raw.stdout)} == {"up"}
    assert bare.returncode == 0, bare.stderr
    assert "up" not in {r["state"] for r in json.loads(bare.stdout)}


def test_sigterm_stops_cleanly(daemon: DaemonProcess) -> None:
    code, seconds = daemon.stop()
    assert code == 0 and seconds < 20
    assert "Traceback" not in daemon.log_text()
