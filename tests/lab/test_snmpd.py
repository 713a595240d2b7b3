"""Real net-snmp agents in unit namespaces: config, v2c/v3 answers, restart, linkUp/Down traps."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

import pytest
from pyasn1.codec.ber import decoder  # type: ignore[import-untyped]
from pysnmp.proto import api

from govnet.errors import LabError
from govnet.lab import netns, procs, snmpd
from govnet.lab.topology import build_tree

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SECRETS = snmpd.SnmpSecrets("labRO", "labv3", "authpass-1", "privpass-1")


def decode_trap(data: bytes) -> dict[str, str]:
    """A v2c trap's varbinds as ``{oid: value}``, decoded with pysnmp."""
    version = int(api.decodeMessageVersion(data))
    assert version == api.SNMP_VERSION_2C
    module = api.PROTOCOL_MODULES[version]
    message, _ = decoder.decode(data, asn1Spec=module.Message())
    pdu = module.apiMessage.get_pdu(message)
    return {str(oid): str(value.prettyPrint()) for oid, value in module.apiPDU.get_varbinds(pdu)}


def wait_trap(sock: socket.socket, trap_oid: str, index: int, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(65535)
        except TimeoutError:
            break
        varbinds = decode_trap(data)
        if varbinds.get(SNMP_TRAP_OID) == trap_oid.lstrip(".") and any(
            oid == f"{snmpd.IF_INDEX.lstrip('.')}.{index}" for oid in varbinds
        ):
            return varbinds
    raise AssertionError(f"no trap {trap_oid} for ifIndex {index} within {timeout} s")


def drain(sock: socket.socket) -> None:
    sock.settimeout(0)
    try:
        while True:
            sock.recvfrom(65535)
    except (BlockingIOError, TimeoutError):
        pass


def test_config_listens_on_management_only_and_sends_link_traps() -> None:
    t = build_tree("x", [("u1", "a1", ["party"])])
    settings = snmpd.AgentSettings(SECRETS, trap_receiver=("198.18.2.1", 162), link_poll_seconds=2)
    conf = snmpd.render_config(t, "u1", settings)
    assert f"agentAddress udp:{t.node('u1').mgmt}:161\n" in conf
    assert "trap2sink 198.18.2.1:162 labRO" in conf
    assert f'monitor -r 2 -S -e govnetLinkDown "linkDown" {snmpd.IF_OPER_STATUS} == 2' in conf
    assert "iquerySecName" in conf and "sysName u1" in conf


@pytest.mark.parametrize(
    ("secrets", "receiver", "message"),
    [
        (snmpd.SnmpSecrets("a b", "u", "authpass1", "privpass1"), None, "community"),
        (snmpd.SnmpSecrets("c", "u", "short", "privpass1"), None, "passphrase"),
        (SECRETS, ("8.8.8.8", 162), "outside the lab"),
        (SECRETS, ("nope", 162), "not an IPv4"),
    ],
)
def test_bad_settings_are_refused(
    secrets: snmpd.SnmpSecrets, receiver: tuple[str, int] | None, message: str
) -> None:
    t = build_tree("x", [("u1", "a1", ["party"])])
    with pytest.raises(LabError, match=message):
        snmpd.render_config(t, "u1", snmpd.AgentSettings(secrets, trap_receiver=receiver))
    with pytest.raises(LabError, match="not a unit"):
        snmpd.render_config(t, "a1", snmpd.AgentSettings(SECRETS))


def test_every_agent_answers_v2c_and_v3_with_its_name(lab: Any, kit: Any) -> None:
    for unit in lab.topology.units():
        assert kit.snmpget(unit.mgmt, snmpd.SYS_NAME, timeout=2) == f'"{unit.name}"'
        assert kit.snmpget(unit.mgmt, snmpd.SYS_NAME, v3=True, timeout=2) == f'"{unit.name}"'
    wrong = kit.SECRETS.community + "x"
    out = subprocess.run(
        [
            "snmpget",
            "-m",
            "",
            "-v2c",
            "-c",
            wrong,
            "-t",
            "0.5",
            "-r",
            "0",
            str(lab.topology.node("u1").mgmt),
            snmpd.SYS_NAME,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0


def test_agent_files_keep_secrets_private_and_no_tcp_is_open(lab: Any) -> None:
    sdir = lab.root / lab.topology.lab
    conf = snmpd.agent_dir(sdir, "u1") / "snmpd.conf"
    assert conf.stat().st_mode & 0o777 == 0o600
    log = procs.log_path(sdir, snmpd.agent_name("u1")).read_text()
    meta = (sdir / "pids" / f"{snmpd.agent_name('u1')}.json").read_text()
    for secret in (SECRETS.v3_auth, SECRETS.v3_priv, SECRETS.community):
        assert secret not in log and secret not in meta
    sockets = subprocess.run(
        ["ip", "netns", "exec", lab.ns("u1"), "ss", "-H", "-lntu"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert all(s.split()[0] == "udp" for s in sockets), sockets  # no SMUX 199, no TCP at all
    listening_161 = [s.split()[4] for s in sockets if s.split()[4].endswith(":161")]
    assert listening_161 == [f"{lab.topology.node('u1').mgmt}:161"]


def test_restart_resets_sysuptime(lab: Any, kit: Any) -> None:
    addr = lab.topology.node("u2").mgmt
    deadline = time.monotonic() + 10
    while int(kit.snmpget(addr, snmpd.SYS_UPTIME, timeout=2) or 0) < 150:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    before = int(kit.snmpget(addr, snmpd.SYS_UPTIME, timeout=2))
    old_pid = procs.process_pid(snmpd.agent_name("u2"), lab.root / lab.topology.lab)
    new_pid = snmpd.restart(lab.topology.lab, "u2", lab.root)
    assert new_pid != old_pid
    after = int(kit.snmpget(addr, snmpd.SYS_UPTIME, timeout=2))
    assert after < before


def test_link_down_and_up_send_traps_to_the_receiver(lab: Any, kit: Any) -> None:
    ns = lab.ns("u3")
    index = kit.ifindex(ns, "lan0")
    drain(lab.trap_socket)
    try:
        netns.set_link(ns, "lan0", False)
        down = wait_trap(lab.trap_socket, snmpd.LINK_DOWN, index, timeout=15)
        assert down[f"{snmpd.IF_OPER_STATUS.lstrip('.')}.{index}"] == "2"
        assert down[f"{snmpd.IF_ADMIN_STATUS.lstrip('.')}.{index}"] == "2"
    finally:
        netns.set_link(ns, "lan0", True)
    up = wait_trap(lab.trap_socket, snmpd.LINK_UP, index, timeout=15)
    assert up[f"{snmpd.IF_OPER_STATUS.lstrip('.')}.{index}"] == "1"
