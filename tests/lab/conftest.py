"""Shared fixtures for the lab's kernel tests: a small real lab, real tools to look at it.

The lab (6 units over 2 aggs, all three segments present) is built once per session under a
unique name with its state in a temporary directory, and always torn down.  Tests that need
root or a missing binary skip with the reason, except in CI (``CI`` set) where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from govnet.lab import kfaults, netns, snmpd
from govnet.lab.topology import LabTopology, build_tree
from govnet.osutil.netns import in_netns
from tests.helpers import need
from tests.lab.netkit import LAB_NETWORK, ROWS, SPARE_NETWORK

TRAP_PORT = 1162
SECRETS = snmpd.SnmpSecrets("labRO", "labv3", "authpass-1", "privpass-1")
BINARIES = ("ip", "ping", "snmpd", "snmpget", "iptables-legacy")


def skip_or_fail(reason: str) -> None:
    need(False, reason)


def require_lab(binaries: Sequence[str] = BINARIES) -> None:
    if os.geteuid() != 0:
        skip_or_fail("needs root (network namespaces)")
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        skip_or_fail(f"missing binaries: {', '.join(missing)}")


def unique_lab() -> str:
    return "t" + uuid.uuid4().hex[:7]


@dataclass
class Ping:
    sent: int
    received: int
    rtts: list[float]
    output: str

    @property
    def loss(self) -> float:
        return 1.0 - self.received / self.sent if self.sent else 1.0


def ping(
    dst: object,
    *,
    ns: str | None = None,
    src: object = None,
    count: int = 1,
    interval: float = 0.2,
    wait: float = 1.0,
) -> Ping:
    """Kernel ping (iputils), optionally inside a namespace and from a source address."""
    argv = ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", str(wait)]
    if src is not None:
        argv += ["-I", str(src)]
    argv.append(str(dst))
    if ns is not None:
        argv = ["ip", "netns", "exec", ns, *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    out = proc.stdout + proc.stderr
    stats = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    rtts = [float(x) for x in re.findall(r"time=([\d.]+) ms", out)]
    sent, received = (int(stats.group(1)), int(stats.group(2))) if stats else (0, 0)
    return Ping(sent, received, rtts, out)


def snmpget(
    addr: object, *oids: str, ns: str | None = None, v3: bool = False, timeout: int = 1
) -> str | None:
    """net-snmp ``snmpget`` with numeric OIDs; the values (``-Oqv``) or None on no answer."""
    v3_args = ["-v3", "-l", "authPriv", "-u", SECRETS.v3_user, "-a", "SHA"]
    v3_args += ["-A", SECRETS.v3_auth, "-x", "AES", "-X", SECRETS.v3_priv]
    auth = v3_args if v3 else ["-v2c", "-c", SECRETS.community]
    argv = ["snmpget", "-m", "", "-Oqvt", "-t", str(timeout), "-r", "0", *auth, str(addr), *oids]
    if ns is not None:
        argv = ["ip", "netns", "exec", ns, *argv]
    env = dict(os.environ, SNMP_PERSISTENT_DIR="/tmp/govnet-test-snmp", MIBS="")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=30)
    return proc.stdout.strip() if proc.returncode == 0 else None


def ifindex(ns: str, ifname: str) -> int:
    out = subprocess.run(
        ["ip", "-n", ns, "-o", "link", "show", ifname], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split(":", 1)[0])


@dataclass
class Lab:
    topology: LabTopology
    root: Path
    trap_socket: socket.socket

    def ns(self, node: str, vrf: str = "intranet") -> str:
        return self.topology.netns(node, vrf)  # type: ignore[arg-type]

    @property
    def prober(self) -> str:
        return self.topology.netns(self.topology.prober)


class Kit:
    """The helpers above, handed to tests as the ``kit`` fixture (tests/ is not a package)."""

    LAB_NETWORK = LAB_NETWORK
    SPARE_NETWORK = SPARE_NETWORK
    ROWS = ROWS
    SECRETS = SECRETS
    TRAP_PORT = TRAP_PORT
    require_lab = staticmethod(require_lab)
    skip_or_fail = staticmethod(skip_or_fail)
    unique_lab = staticmethod(unique_lab)
    ping = staticmethod(ping)
    snmpget = staticmethod(snmpget)
    ifindex = staticmethod(ifindex)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_lab()
    topology = build_tree(unique_lab(), ROWS, network=LAB_NETWORK)
    root = tmp_path_factory.mktemp("labstate")
    try:
        netns.up(topology, root)
        receiver = topology.prober_address("intranet")

        def listen() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((str(receiver), TRAP_PORT))
            return sock

        trap_socket = in_netns(topology.netns(topology.prober), listen)
        settings = snmpd.AgentSettings(SECRETS, trap_receiver=(str(receiver), TRAP_PORT), link_poll_seconds=1)
        snmpd.start_all(topology, settings, root)
        yield Lab(topology, root, trap_socket)
        trap_socket.close()
    finally:
        netns.down(topology.lab, root)


@pytest.fixture
def healthy(lab: Lab) -> Iterator[Lab]:
    """The session lab, with every fault healed after the test whatever happened."""
    yield lab
    for node in {str(f["node"]) for f in kfaults.active(lab.topology.lab, lab.root)}:
        kfaults.heal(lab.topology, node, lab.root)
