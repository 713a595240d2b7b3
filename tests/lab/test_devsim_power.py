"""Where and whether a simulated device listens: ``device-down`` and network namespaces."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from govnet.lab.devsim import BackgroundDevsim, DeviceSpec, clear_faults, set_fault
from govnet.lab.devsim.server import write_known_hosts
from govnet.osutil.netns import in_netns
from tests.helpers import need
from tests.simkit import netmiko_to


def _spec(tmp_path: Path, name: str, netns: str | None = None) -> DeviceSpec:
    return DeviceSpec(
        name=name,
        platform="cisco_ios",
        address="127.0.0.1",
        port=0,
        username="netops",
        password="pw-power",
        enable_secret="en-power",
        state_dir=tmp_path,
        netns=netns,
    )


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _show_run(spec: DeviceSpec, known_hosts: Path) -> str:
    conn = netmiko_to(spec, known_hosts)
    try:
        conn.enable()
        conn.send_config_set(["snmp-server location before-power-cut"])
        return str(conn.send_command("show running-config"))
    finally:
        conn.disconnect()


def test_device_down_stops_serving_until_healed(tmp_path: Path) -> None:
    with BackgroundDevsim([_spec(tmp_path, "pwr-1")], watch_interval=0.05) as sim:
        spec = sim.spec("pwr-1")
        known_hosts = tmp_path / "known_hosts"
        write_known_hosts(known_hosts, [spec])
        assert "before-power-cut" in _show_run(spec, known_hosts)
        set_fault(tmp_path, "pwr-1", "device-down")
        _eventually(lambda: _refused(spec.port))
        clear_faults(tmp_path, "pwr-1")
        _eventually(lambda: not _refused(spec.port))
        running = (tmp_path / "pwr-1.running.cfg").read_text()
        assert "before-power-cut" not in running  # never saved: lost in the power cut


@pytest.fixture
def netns() -> Iterator[str]:
    need(os.geteuid() == 0, "creating a network namespace needs root")
    need(shutil.which("ip") is not None, "iproute2 (ip) is not installed")
    name = f"devsim-t-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def test_one_process_listens_inside_another_namespace(tmp_path: Path, netns: str) -> None:
    with BackgroundDevsim([_spec(tmp_path, "ns-1", netns=netns)]) as sim:
        spec = sim.spec("ns-1")
        known_hosts = tmp_path / "known_hosts"
        write_known_hosts(known_hosts, [spec])
        assert _refused(spec.port)  # nothing listens in the test's own namespace
        running = in_netns(netns, lambda: _show_run(spec, known_hosts))
    assert "hostname ns-1" in running
