"""`govnet lab` end to end: the Luohe site scaled down, real SSH/SNMP/ICMP, real faults, clean down.

One lab (24 units, in 198.18.0.0/17) is built through the CLI for the module and removed at the
end; every fault is observed with the kernel's ping, net-snmp's snmpget and a netmiko session,
then healed and observed again.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
from paramiko.ssh_exception import SSHException  # type: ignore[import-untyped]

from tests import labkit, nobody
from tests.labkit import govnet, lab_up

NETWORK = "198.18.0.0/17"
DRIVER = {"huawei_vrp": "huawei", "h3c_comware": "hp_comware", "cisco_ios": "cisco_ios"}
PUSH = {
    "huawei_vrp": [
        "interface Vlanif3999",
        "description govnet-lab-test",
        "quit",
        "ntp-service unicast-server 198.18.0.1",
    ],
    "h3c_comware": [
        "interface Vlan-interface3999",
        "description govnet-lab-test",
        "quit",
        "ntp-service unicast-server 198.18.0.1",
    ],
    "cisco_ios": ["interface Vlan3999", "description govnet-lab-test", "exit", "ntp server 198.18.0.1"],
}
SHOW = {
    "huawei_vrp": "display current-configuration",
    "h3c_comware": "display current-configuration",
    "cisco_ios": "show running-config",
}
REJECT = {
    "huawei_vrp": "Error: Unrecognized command found at '^' position.",
    "h3c_comware": "% Unrecognized command found at '^' position.",
    "cisco_ios": "% Invalid input detected at '^' marker.",
}


@dataclass
class Lab(labkit.Lab):
    """The lab with its secrets read, and the kernel's ping, net-snmp's snmpget and netmiko to it."""

    secrets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.secrets = {p.name: p.read_text().strip() for p in (self.dir / "secrets").iterdir()}

    def unit(self, platform: str | None = None, segments: set[str] | None = None) -> dict[str, Any]:
        for unit in self.info["units"]:
            if (platform is None or unit["platform"] == platform) and (
                segments is None or segments <= set(unit["segments"])
            ):
                return dict(unit)
        raise AssertionError(f"no {platform} unit on {segments}")

    def ping(
        self, host: str, count: int = 1, *, netns: str | None = None, source: str | None = None
    ) -> tuple[int, list[float]]:
        argv = [
            "ping",
            "-n",
            "-c",
            str(count),
            "-i",
            "0.2",
            "-W",
            "1",
            *(["-I", source] if source else []),
            host,
        ]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).stdout
        rtts = [float(part.split("=")[1]) / 1000 for part in out.split() if part.startswith("time=")]
        return len(rtts), rtts

    def snmp(self, host: str, oid: str = ".1.3.6.1.2.1.1.3.0") -> str | None:
        argv = [
            "snmpget",
            "-m",
            "",
            "-Oqvt",
            "-t",
            "1",
            "-r",
            "2",
            "-v3",
            "-l",
            "authPriv",
            "-u",
            "govnet-mon",
            "-a",
            "SHA",
            "-A",
            self.secrets["snmp-auth"],
            "-x",
            "AES",
            "-X",
            self.secrets["snmp-priv"],
            host,
            oid,
        ]
        env = dict(os.environ, SNMP_PERSISTENT_DIR=str(self.dir / "snmp-client"), MIBS="")
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def ssh(self, unit: dict[str, Any], **extra: Any) -> Any:
        conn = ConnectHandler(
            device_type=DRIVER[unit["platform"]],
            host=unit["host"],
            username="govnet",
            password=self.secrets["ssh-password"],
            secret=self.secrets["enable-secret"],
            ssh_strict=True,
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=self.info["known_hosts"],
            conn_timeout=5,
            auth_timeout=5,
            banner_timeout=5,
            **extra,
        )
        if unit["platform"] == "cisco_ios":
            conn.enable()
        return conn


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, kit: Any) -> Iterator[Lab]:
    kit.require_lab(("ip", "ping", "snmpd", "snmpget", "iptables-legacy"))
    state = tmp_path_factory.mktemp("twin")
    name = "t" + uuid.uuid4().hex[:6]
    with lab_up(state, name, NETWORK) as info:
        yield Lab(name, state, info)


@pytest.fixture
def healed(lab: Lab) -> Iterator[Lab]:
    yield lab
    lab.heal_all()


def test_status_json_has_the_stable_shape(lab: Lab) -> None:
    info = json.loads(lab.cli("status", "--json").stdout)
    assert {"inventory", "daemon_config", "units", "faults"} <= set(info)
    assert len(info["units"]) == 24 and info["faults"] == []
    for unit in info["units"]:
        assert {"id", "host", "platform", "segments"} <= set(unit)
        assert unit["host"].startswith("198.18.")
    assert {u["platform"] for u in info["units"]} == {"huawei_vrp", "h3c_comware", "cisco_ios"}
    assert {s for u in info["units"] for s in u["segments"]} == {"intranet", "party", "extranet"}


def test_lab_inventory_validates_and_holds_no_secret(lab: Lab) -> None:
    result = govnet(lab.state, "inventory", "stats", "--json", "--inventory", lab.info["inventory"])
    stats = json.loads(result.stdout)
    assert stats["units"] == 24
    text = Path(lab.info["inventory"]).read_text()
    for value in lab.secrets.values():
        assert value not in text
    for path in (lab.dir / "secrets").iterdir():
        assert path.stat().st_mode & 0o777 == 0o600
    assert "file:" in text


def test_up_again_is_idempotent_and_another_size_is_refused(lab: Lab) -> None:
    again = govnet(lab.state, "lab", "up", "--name", lab.name, "--network", NETWORK, "--json")
    assert [u["id"] for u in json.loads(again.stdout)["units"]] == [u["id"] for u in lab.info["units"]]
    other = govnet(
        lab.state, "lab", "up", "--name", lab.name, "--network", NETWORK, "--units", "30", check=False
    )
    assert other.returncode == 1
    assert "is up with 24 units" in other.stderr and "Traceback" not in other.stderr


@pytest.mark.parametrize("platform", ["cisco_ios", "h3c_comware", "huawei_vrp"])
def test_netmiko_pushes_saves_and_reads_back_with_host_keys_checked(lab: Lab, platform: str) -> None:
    unit = lab.unit(platform)
    conn = lab.ssh(unit)
    try:
        conn.send_config_set(PUSH[platform])
        conn.save_config()
        running = conn.send_command(SHOW[platform], read_timeout=20)
    finally:
        conn.disconnect()
    assert "description govnet-lab-test" in running
    assert PUSH[platform][-1] in running


def test_a_wrong_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    unit, other = lab.unit("cisco_ios"), lab.unit("huawei_vrp")
    lines = Path(lab.info["known_hosts"]).read_text().splitlines()
    key_of_other = next(line for line in lines if line.startswith(other["host"] + " ")).split(" ", 1)[1]
    (tmp_path / "kh").write_text(f"{unit['host']} {key_of_other}\n")
    lab.info = {**lab.info, "known_hosts": str(tmp_path / "kh")}
    try:
        with pytest.raises((NetmikoTimeoutException, SSHException), match=r"does not match|Host key"):
            lab.ssh(unit)
    finally:
        lab.info = {**lab.info, "known_hosts": str(lab.dir / "known_hosts")}


def test_link_down_cuts_ping_snmp_and_ssh_then_heal_restores(healed: Lab) -> None:
    lab, unit = healed, healed.unit("huawei_vrp")
    assert lab.ping(unit["host"], 3)[0] >= 1 and lab.snmp(unit["host"]) is not None
    lab.cli("fault", unit["id"], "link-down")
    assert lab.ping(unit["host"])[0] == 0
    assert lab.snmp(unit["host"]) is None
    with pytest.raises(NetmikoTimeoutException):
        lab.ssh(unit)
    lab.cli("heal", unit["id"])
    assert lab.ping(unit["host"], 2)[0] >= 1
    assert lab.snmp(unit["host"]) is not None


def test_aggregation_link_down_takes_every_unit_behind_it(healed: Lab) -> None:
    lab = healed
    twin = json.loads((lab.dir / "twin.json").read_text())
    agg = twin["units"][0]["agg"]
    behind = [u["host"] for u in twin["units"] if u["agg"] == agg]
    elsewhere = [u["host"] for u in twin["units"] if u["agg"] != agg][:2]
    lab.cli("fault", agg, "link-down")
    assert all(lab.ping(h)[0] == 0 for h in behind)
    assert all(lab.ping(h, 3)[0] >= 1 for h in elsewhere)
    lab.cli("heal", agg)
    assert all(lab.ping(h, 2)[0] >= 1 for h in behind)


def test_device_down_is_a_reboot_when_healed(healed: Lab) -> None:
    lab, unit = healed, healed.unit("h3c_comware")
    before = lab.snmp(unit["host"])
    assert before is not None
    lab.cli("fault", unit["id"], "device-down")
    assert lab.ping(unit["host"])[0] == 0 and lab.snmp(unit["host"]) is None
    lab.cli("heal", unit["id"])
    deadline = time.monotonic() + 15
    after = None
    while after is None and time.monotonic() < deadline:
        after = lab.snmp(unit["host"])
    assert after is not None and int(after) < int(before) + 100  # sysUpTime started again
    while True:  # the SSH service boots on its own schedule, as on a real device
        try:
            lab.ssh(unit).disconnect()
            break
        except NetmikoTimeoutException:
            if time.monotonic() > deadline:
                raise


def test_loss_and_latency_are_real(healed: Lab) -> None:
    lab, unit = healed, healed.unit("cisco_ios")
    lab.cli("fault", unit["id"], "loss=100")
    assert lab.ping(unit["host"], 3)[0] == 0
    lab.cli("heal", unit["id"])
    lab.cli("fault", unit["id"], "latency=200")
    answered, rtts = lab.ping(unit["host"], 2)
    assert answered >= 1 and min(rtts) >= 0.2
    lab.cli("heal", unit["id"])
    answered, rtts = lab.ping(unit["host"], 2)
    assert answered >= 1 and max(rtts) < 0.2


def test_device_faults_reach_the_ssh_session(healed: Lab) -> None:
    lab, unit = healed, healed.unit("cisco_ios")
    lab.cli("fault", unit["id"], "auth-fail")
    with pytest.raises(NetmikoAuthenticationException):
        lab.ssh(unit)
    lab.cli("heal", unit["id"])
    lab.cli("fault", unit["id"], "reject=^ntp")
    conn = lab.ssh(unit)
    try:
        output = conn.send_config_set(["ntp server 198.18.0.9"])
    finally:
        conn.disconnect()
    assert REJECT["cisco_ios"] in output
    lab.cli("heal", unit["id"])
    lab.cli("fault", unit["id"], "slow=300")
    conn = lab.ssh(unit)
    try:
        started = time.monotonic()
        conn.send_command("show clock")
        assert time.monotonic() - started >= 0.3
    finally:
        conn.disconnect()
    lab.cli("heal", unit["id"])
    lab.cli("fault", unit["id"], "ssh-drop")
    conn = lab.ssh(unit, read_timeout_override=3)
    with pytest.raises((OSError, EOFError, SSHException, NetmikoTimeoutException, ReadTimeout)):
        conn.send_config_set(["ntp server 198.18.0.10", "ntp server 198.18.0.11", "ntp server 198.18.0.12"])
    conn.disconnect()


def test_isolation_leak_lets_party_reach_the_intranet_until_healed(healed: Lab) -> None:
    lab = healed
    twin = json.loads((lab.dir / "twin.json").read_text())
    unit = next(u for u in twin["units"] if {"intranet", "party"} <= set(u["segments"]))
    probe_ns = f"gvl-{lab.name}-probe"
    isolation = yaml.safe_load(Path(lab.info["daemon_config"]).read_text())["probes"]["isolation"]
    party_source = isolation["vantages"]["party-noc"]["source"]
    assert lab.ping(unit["host"], netns=probe_ns, source=party_source)[0] == 0  # isolated
    lab.cli("fault", unit["id"], "isolation-leak")
    assert lab.ping(unit["host"], 2, netns=probe_ns, source=party_source)[0] >= 1  # breached
    lab.cli("heal", unit["id"])
    assert lab.ping(unit["host"], netns=probe_ns, source=party_source)[0] == 0


def test_unknown_targets_and_kinds_are_one_line_errors(lab: Lab) -> None:
    for args, message in (
        (("fault", "nosuch", "link-down"), "has no unit or node 'nosuch'"),
        (("fault", lab.info["units"][0]["id"], "melt"), "unknown fault kind 'melt'"),
        (("fault", lab.info["units"][0]["id"], "loss=150"), "loss"),
    ):
        result = lab.cli(*args, check=False)
        assert result.returncode == 1, result.stderr
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_lab_needs_root_and_says_so(tmp_path: Path) -> None:
    as_nobody = nobody.install()
    result = subprocess.run(
        as_nobody.command("-m", "govnet", "lab", "up", "--name", "nope"),
        cwd=as_nobody.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ, GOVNET_LAB_STATE=str(tmp_path)),
    )
    assert result.returncode == 1
    assert "the lab needs root" in result.stderr and "Traceback" not in result.stderr


def test_down_leaves_nothing_behind(tmp_path: Path, kit: Any) -> None:
    kit.require_lab(("ip", "snmpd"))
    name = "t" + uuid.uuid4().hex[:6]
    govnet(tmp_path, "lab", "up", "--name", name, "--network", "198.18.128.0/17", "--units", "4")
    govnet(tmp_path, "lab", "down", "--name", name)
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert f"gvl-{name}-" not in namespaces
    routes = subprocess.run(
        ["ip", "route", "show", "table", "all"], capture_output=True, text=True, check=True
    ).stdout
    assert "198.18.128.0/17" not in routes
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert str(tmp_path) not in processes
    assert not (tmp_path / name).exists()
