"""Simulated devices over real SSH on 127.0.0.1: stock netmiko drivers and raw channels.

Every session checks host keys against the known_hosts file the simulator writes. Stock
netmiko ``huawei`` spends ~9 s of fixed silence-waits per push (FIELD-NOTES), so the slow
drivers get one full push each and the rest of the behaviour is driven over raw channels.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko  # type: ignore[import-untyped]
import pytest
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)

from govnet.errors import SafetyError
from govnet.lab.devsim import (
    BackgroundDevsim,
    DeviceSpec,
    clear_faults,
    ensure_host_key,
    known_hosts_line,
    serve,
    set_fault,
    write_known_hosts,
)
from tests.simkit import netmiko_to

PORTS = {
    "huawei_vrp": "GigabitEthernet0/0/2",
    "h3c_comware": "GigabitEthernet1/0/2",
    "cisco_ios": "GigabitEthernet0/1",
}
SHOW_RUN = {
    "huawei_vrp": "display current-configuration",
    "h3c_comware": "display current-configuration",
    "cisco_ios": "show running-config",
}
ERRORS = {
    "huawei_vrp": "Error: Unrecognized command found at '^' position.",
    "h3c_comware": "% Unrecognized command found at '^' position.",
    "cisco_ios": "% Invalid input detected at '^' marker.",
}
PROMPT = r"(?:<[\w.-]+>|\[[\w./-]+\]|[\w.-]+(?:\([\w-]+\))?[>#])$"
PASSWORD = "s3cret-SimLab!"


class SimLab:
    def __init__(self, sim: BackgroundDevsim, state: Path, known_hosts: Path) -> None:
        self.sim = sim
        self.state = state
        self.known_hosts = known_hosts

    def spec(self, name: str) -> DeviceSpec:
        return self.sim.spec(name)

    def netmiko(self, name: str, **extra: Any) -> Any:
        return netmiko_to(self.spec(name), self.known_hosts, **extra)

    def raw(self, name: str) -> Raw:
        return Raw(self.spec(name), self.known_hosts)


class Raw:
    """A bare interactive channel (paramiko, 24-line terminal) with strict host keys."""

    def __init__(self, spec: DeviceSpec, known_hosts: Path) -> None:
        self.client = paramiko.SSHClient()
        self.client.load_host_keys(str(known_hosts))
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.client.connect(
            spec.address,
            spec.port,
            spec.username,
            spec.password,
            look_for_keys=False,
            allow_agent=False,
        )
        self.chan = self.client.invoke_shell(width=200, height=24)
        self.chan.settimeout(5)
        self.greeting = self.expect(PROMPT)

    def expect(self, pattern: str, timeout: float = 5.0) -> str:
        buf = ""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, buf):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not seen in {buf!r}")
            data = self.chan.recv(65536)
            if not data:
                raise EOFError(buf)
            buf += data.decode()
        return buf

    def cmd(self, line: str, pattern: str = PROMPT) -> str:
        self.chan.send((line + "\n").encode())
        return self.expect(pattern)

    def key(self, keys: str, pattern: str) -> str:
        self.chan.send(keys.encode())
        return self.expect(pattern)

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="module")
def sim_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimLab]:
    state = tmp_path_factory.mktemp("devsim")
    names = {
        "huawei_vrp": ["hw1", "hw-raw"],
        "h3c_comware": ["h3c1", "h3c-raw"],
        "cisco_ios": ["ios1", "ios-raw", "ios-fault", "ios-boot"],
    }
    specs = [
        DeviceSpec(
            name=name,
            platform=platform,
            address="127.0.0.1",
            port=0,
            username="netops",
            password=PASSWORD,
            enable_secret="en-SimLab",
            state_dir=state,
            banner="Authorised access only",
        )
        for platform, group in names.items()
        for name in group
    ]
    with BackgroundDevsim(specs) as sim:
        known_hosts = state / "known_hosts"
        write_known_hosts(known_hosts, sim.specs)
        yield SimLab(sim, state, known_hosts)


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware", "cisco_ios"])
def test_netmiko_pushes_saves_and_reads_back(sim_lab: SimLab, platform: str) -> None:
    name = {"huawei_vrp": "hw1", "h3c_comware": "h3c1", "cisco_ios": "ios1"}[platform]
    conn = sim_lab.netmiko(name)
    try:
        if platform == "cisco_ios":
            conn.enable()
        exit_word = "exit" if platform == "cisco_ios" else "quit"
        commands = [f"interface {PORTS[platform]}", " description to-unit-42", exit_word]
        output = conn.send_config_set(commands)
        assert "to-unit-42" in output
        conn.save_config()
        running = conn.send_command(SHOW_RUN[platform])
    finally:
        conn.disconnect()
    assert f"interface {PORTS[platform]}\n" in running
    assert " description to-unit-42" in running
    startup = (sim_lab.state / f"{name}.startup.cfg").read_text()
    assert f"interface {PORTS[platform]}\n shutdown\n description to-unit-42\n" in startup


def test_wrong_host_key_is_refused(sim_lab: SimLab, tmp_path: Path) -> None:
    spec = sim_lab.spec("ios1")
    impostor = ensure_host_key(tmp_path / "impostor_key")
    bad = tmp_path / "known_hosts"
    bad.write_text(known_hosts_line(spec.address, spec.port, impostor) + "\n")
    assert known_hosts_line("127.0.0.1", 22, impostor).startswith("127.0.0.1 ssh-ed25519 AAAA")
    with pytest.raises(NetmikoTimeoutException, match=r"(?i)host key"):
        netmiko_to(spec, bad)
    assert (spec.key_path.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(
    ("platform", "name", "more"),
    [
        ("huawei_vrp", "hw-raw", "  ---- More ----"),
        ("h3c_comware", "h3c-raw", "  ---- More ----"),
        ("cisco_ios", "ios-raw", " --More-- "),
    ],
)
def test_paging_until_disabled(sim_lab: SimLab, platform: str, name: str, more: str) -> None:
    raw = sim_lab.raw(name)
    try:
        assert "Authorised access only" in raw.greeting
        if platform == "cisco_ios":
            raw.cmd("enable", "Password: $")
            raw.cmd("en-SimLab")
        first = raw.cmd(SHOW_RUN[platform], re.escape(more) + "$")
        assert len(first.splitlines()) == 25  # echo, a 23-line page, the More prompt
        page_or_prompt = f"(?:{re.escape(more)}|{PROMPT})$"
        pages = [raw.key(" ", page_or_prompt)]  # space: the next page
        while pages[-1].endswith(more):
            pages.append(raw.key(" ", page_or_prompt))
        assert "interface " in "".join(pages)
        assert re.search(PROMPT, pages[-1])
        raw.cmd(SHOW_RUN[platform], re.escape(more) + "$")
        one_line = raw.key("\r", re.escape(more) + "$")  # enter: one more line
        assert one_line.count("\r\n") == 1
        stopped = raw.key("q", PROMPT)  # q: stop, back to the prompt
        assert "\r\n" not in stopped
        disable = {
            "huawei_vrp": "screen-length 0 temporary-disable",
            "h3c_comware": "screen-length disable",
            "cisco_ios": "terminal length 0",
        }[platform]
        raw.cmd(disable)
        whole = raw.cmd(SHOW_RUN[platform])
        assert more not in whole
        assert whole.rstrip().endswith(("return\r\n<hw-raw>", "return\r\n<h3c-raw>", "end\r\nios-raw#"))
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("name", "prompt"), [("hw-raw", "<hw-raw>"), ("h3c-raw", "<h3c-raw>"), ("ios-raw", "ios-raw>")]
)
def test_unknown_command_gets_the_platform_error_under_a_caret(
    sim_lab: SimLab, name: str, prompt: str
) -> None:
    raw = sim_lab.raw(name)
    try:
        output = raw.cmd("displya version")
        platform = sim_lab.spec(name).platform
        lines = output.split("\r\n")
        assert lines[0] == "displya version"
        assert lines[1] == " " * len(prompt) + "^"
        assert lines[2] == ERRORS[platform]
    finally:
        raw.close()


def test_netmiko_sees_config_errors(sim_lab: SimLab) -> None:
    conn = sim_lab.netmiko("ios1")
    try:
        conn.enable()
        with pytest.raises(ConfigInvalidException, match="Invalid input"):
            conn.send_config_set(["interfcae Loopback7"], error_pattern=r"% Invalid input")
    finally:
        conn.disconnect()


def shows(path: Path, check: Any, timeout: float = 5.0) -> bool:
    """Whether ``path``'s text passes ``check`` within ``timeout``: in configuration mode the
    simulator writes its running config file within ``FLUSH_DELAY`` of a change, not per line."""
    deadline = time.monotonic() + timeout
    while not check(path.read_text()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize(
    ("name", "section", "undo"),
    [
        ("hw-raw", "interface LoopBack7", "undo"),
        ("h3c-raw", "interface LoopBack7", "undo"),
        ("ios-raw", "interface Loopback7", "no"),
    ],
)
def test_undo_and_no_remove_lines_and_sections(sim_lab: SimLab, name: str, section: str, undo: str) -> None:
    raw = sim_lab.raw(name)
    running = sim_lab.state / f"{name}.running.cfg"
    try:
        if undo == "no":
            raw.cmd("enable", "Password: $")
            raw.cmd("en-SimLab")
            raw.cmd("configure terminal")
        else:
            raw.cmd("system-view")
        raw.cmd(section)
        raw.cmd(" description gone-soon")
        raw.cmd(" ip address 10.9.9.9 255.255.255.255")
        body = f"{section}\n description gone-soon\n ip address 10.9.9.9 255.255.255.255\n"
        assert shows(running, lambda text: body in text)
        raw.cmd(f"{undo} description")
        assert shows(running, lambda text: f"{section}\n ip address 10.9.9.9 255.255.255.255\n" in text)
        raw.cmd(f"{undo} {section}")
        assert shows(running, lambda text: section not in text)
    finally:
        raw.close()


def test_ssh_drop_cuts_a_netmiko_push(sim_lab: SimLab) -> None:
    set_fault(sim_lab.state, "ios-fault", "ssh-drop")
    conn = sim_lab.netmiko("ios-fault")
    try:
        conn.enable()
        commands = ["interface Loopback11", " description first", " description second"]
        with pytest.raises((ReadTimeout, ReadException, OSError, EOFError)):
            conn.send_config_set(commands, read_timeout=2)
    finally:
        clear_faults(sim_lab.state, "ios-fault")
        conn.disconnect()
    running = (sim_lab.state / "ios-fault.running.cfg").read_text()
    assert "interface Loopback11\n" in running  # the first line was applied
    assert "second" not in running


@pytest.mark.parametrize("name", ["hw-raw", "h3c-raw"])
def test_ssh_drop_on_raw_channel(sim_lab: SimLab, name: str) -> None:
    set_fault(sim_lab.state, name, "ssh-drop")
    raw = sim_lab.raw(name)
    try:
        raw.cmd("system-view")
        raw.cmd("interface LoopBack12")
        with pytest.raises(EOFError):
            raw.cmd(" description never-answered")
    finally:
        clear_faults(sim_lab.state, name)
        raw.close()


def test_reject_fault_answers_with_the_platform_error(sim_lab: SimLab) -> None:
    set_fault(sim_lab.state, "ios-fault", "reject=^snmp-server community")
    conn = sim_lab.netmiko("ios-fault")
    try:
        conn.enable()
        output = conn.send_config_set(["snmp-server location lab", "snmp-server community public RO"])
    finally:
        clear_faults(sim_lab.state, "ios-fault")
        conn.disconnect()
    assert "% Invalid input detected at '^' marker." in output
    running = (sim_lab.state / "ios-fault.running.cfg").read_text()
    assert "snmp-server location lab" in running
    assert "community" not in running


def test_auth_fail_refuses_logins_until_healed(sim_lab: SimLab) -> None:
    set_fault(sim_lab.state, "ios-fault", "auth-fail")
    try:
        with pytest.raises(NetmikoAuthenticationException):
            sim_lab.netmiko("ios-fault")
    finally:
        clear_faults(sim_lab.state, "ios-fault")
    sim_lab.netmiko("ios-fault").disconnect()


def test_slow_fault_delays_every_answer(sim_lab: SimLab) -> None:
    conn = sim_lab.netmiko("ios-fault")
    try:
        set_fault(sim_lab.state, "ios-fault", "slow=400")
        start = time.monotonic()
        output = conn.send_command("show version")
        elapsed = time.monotonic() - start
    finally:
        clear_faults(sim_lab.state, "ios-fault")
        conn.disconnect()
    assert "Cisco IOS Software" in output
    assert elapsed >= 0.4


def test_restart_keeps_only_saved_configuration(sim_lab: SimLab) -> None:
    def push(line: str, save: bool) -> None:
        conn = sim_lab.netmiko("ios-boot")
        try:
            conn.enable()
            conn.send_config_set([line])
            if save:
                conn.save_config()
        finally:
            conn.disconnect()

    def running_after_reboot() -> str:
        sim_lab.sim.restart_device("ios-boot")
        conn = sim_lab.netmiko("ios-boot")
        try:
            conn.enable()
            return str(conn.send_command("show running-config"))
        finally:
            conn.disconnect()

    push("snmp-server contact saved-before-reboot", save=True)
    push("snmp-server location lost-on-reboot", save=False)
    running = running_after_reboot()
    assert "snmp-server contact saved-before-reboot" in running
    assert "lost-on-reboot" not in running


def test_refuses_addresses_outside_the_lab_ranges(tmp_path: Path) -> None:
    spec = DeviceSpec(
        name="outside",
        platform="cisco_ios",
        address="10.1.2.3",
        port=0,
        username="u",
        password="p",
        state_dir=tmp_path,
    )
    with pytest.raises(SafetyError, match=r"10\.1\.2\.3 is outside the lab ranges"):
        asyncio.run(serve([spec]))
    assert not (tmp_path / "outside.running.cfg").exists()


def test_command_on_the_ssh_command_line(sim_lab: SimLab) -> None:
    spec = sim_lab.spec("ios-raw")
    client = paramiko.SSHClient()
    client.load_host_keys(str(sim_lab.known_hosts))
    client.connect(spec.address, spec.port, spec.username, spec.password, look_for_keys=False)
    try:
        _, stdout, _ = client.exec_command("show version")
        output = stdout.read().decode()
    finally:
        client.close()
    assert "ios-raw uptime is 0 weeks" in output
