"""What the daemon imports: pysnmp only when a target speaks SNMPv3 or traps are received.

pysnmp (with pyasn1, pysmi, lark, jinja2 and requests behind it) is ~21 MB of a daemon's RSS
(bench/README.md, "Baseline memory"), and SNMPv2c never needs it: the fast path encodes BER by
hand. The daemon runs here for real (``python -m govnet.monitor`` through
`tests/monitor/importshim.py`, which writes the loaded modules at exit) against one net-snmp
agent on four loopback addresses in the test's network namespace, until every device has
answered an SNMP poll; then SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, need, stop
from tests.monitor.daemonkit import DaemonProcess, free_port

COMMUNITY = "govnet-imports"
V3 = {"user": "govnetv3", "auth_protocol": "sha", "priv_protocol": "aes"}
ENV = {
    "GOVNET_BENCH_COMMUNITY": COMMUNITY,
    "GOVNET_BENCH_PASSWORD": "unused-here",
    "GOVNET_TEST_AUTH": "authpass-123",
    "GOVNET_TEST_PRIV": "privpass-123",
    "GOVNET_TEST_TRAPS": COMMUNITY,
}
PYSNMP = ("pysnmp", "pysmi", "pyasn1")

pytestmark = pytest.mark.lab  # root, a namespace, snmpd


def inventory(work: Path, version: str) -> list[str]:
    """bench/gen_inventory.py's site with two units (four devices); their management addresses."""
    made = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gen_inventory.py"), "2"], check=True, capture_output=True
    )
    data: dict[str, Any] = yaml.safe_load(made.stdout)
    if version == "v3":
        data["defaults"]["device"]["snmp"] = {
            "version": "v3",
            **V3,
            "auth_key": "env:GOVNET_TEST_AUTH",
            "priv_key": "env:GOVNET_TEST_PRIV",
        }
    (work / "inventory.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return [d["host"] for element in data["nodes"] + data["units"] for d in element["devices"]]


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Path]:
    """The work folder, with one snmpd answering v2c and a v3 user on the devices' addresses."""
    need(shutil.which("snmpd") is not None, "net-snmp snmpd not installed (apt-get install snmpd)")
    need(os.geteuid() == 0, "needs root: snmpd on UDP 161 of loopback addresses in a private namespace")
    hosts = inventory(tmp_path, "v2c")
    conf = tmp_path / "snmpd.conf"
    conf.write_text(
        f"agentAddress {','.join(f'udp:{h}:161' for h in hosts)}\n"
        f"rocommunity {COMMUNITY} 127.0.0.0/8\n"
        f"createUser {V3['user']} SHA authpass-123 AES privpass-123\nrouser {V3['user']} authpriv\n"
    )
    (tmp_path / "persist").mkdir()
    env = {
        "MIBS": "",
        "SNMP_PERSISTENT_DIR": str(tmp_path / "persist"),
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    }
    argv = ["snmpd", "-f", "-C", "-c", str(conf), "-I", "-smux", "-Lf", str(tmp_path / "snmpd.log")]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield tmp_path
    finally:
        stop(proc)


def imported(work: Path, monkeypatch: pytest.MonkeyPatch, traps: bool = False) -> set[str]:
    """Run the daemon until every device answered SNMP; the top-level packages it had loaded."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config: dict[str, Any] = {
        "inventory": "inventory.yml",
        "allowed_networks": ["127.0.0.0/8"],
        "listen": f"127.0.0.1:{free_port()}",
        "state": "state",
        "probes": {
            "icmp": {"enabled": False},
            "snmp": {"interval": 1, "timeout": 0.5, "retries": 2},
            "tcp": {"enabled": False},
        },
        "path": {"enabled": False},
    }
    if traps:
        config["traps"] = {"listen": f"127.0.0.1:{free_port()}", "communities": ["env:GOVNET_TEST_TRAPS"]}
    path = work / "daemon.yml"
    path.write_text(yaml.safe_dump(config))
    modules = work / "modules.txt"
    shim = ("tests.monitor.importshim", str(modules))
    daemon = DaemonProcess(path, work / "daemon.log", launcher=shim).start()
    try:

        def answered() -> bool:
            success = daemon.metrics().get("govnet_snmp_success", [])
            return len(success) == 4 and all(value == 1 for _, value in success)

        daemon.until(answered, 60, "every device answered an SNMP poll")
        code, _ = daemon.stop()
    finally:
        if daemon.alive():
            daemon.stop()
    assert code == 0, daemon.log_text()[-2000:]
    return {name.split(".")[0] for name in modules.read_text().split()}


def test_a_v2c_only_daemon_never_imports_pysnmp(agent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = imported(agent, monkeypatch)
    assert "govnet" in loaded and "prometheus_client" in loaded  # the shim saw the daemon's modules
    assert loaded.isdisjoint(PYSNMP), sorted(loaded & set(PYSNMP))


def test_a_v3_target_imports_pysnmp(agent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory(agent, "v3")
    assert set(PYSNMP) <= imported(agent, monkeypatch)


def test_the_trap_receiver_imports_pysnmp(agent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "pysnmp" in imported(agent, monkeypatch, traps=True)
