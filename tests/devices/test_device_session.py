"""The session layer against simulated devices over real SSH (127.0.21.x, strict host keys).

Per platform: push, save, read back (byte for byte what the device holds); a rejected line is
a ``CommandRejected`` with the device's exact message and the lines already taken; faults
(``auth-fail``, ``ssh-drop``, ``slow``) and host-key problems are ``DeviceError``s with a
short reason, fast; secrets never reach an exception or a log record.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest

from govnet.devices import (
    CommandRejected,
    ConnectionLost,
    DeviceTimeout,
    SessionError,
    Timeouts,
    open_session,
)
from govnet.errors import DeviceError
from govnet.lab.devsim import ensure_host_key, known_hosts_line, set_fault
from govnet.secrets import SecretResolver
from tests.devices.devlab import ENABLE, FAST, PASSWORD, Lab

PORT = {
    "huawei_vrp": "GigabitEthernet0/0/2",
    "h3c_comware": "GigabitEthernet1/0/2",
    "cisco_ios": "GigabitEthernet0/1",
}
EXIT = {"huawei_vrp": "quit", "h3c_comware": "quit", "cisco_ios": "exit"}
LOCATION = {
    "huawei_vrp": "snmp-agent sys-info location Luohe-lab",
    "h3c_comware": "snmp-agent sys-info location Luohe-lab",
    "cisco_ios": "snmp-server location Luohe-lab",
}
UNKNOWN = {
    "huawei_vrp": "Error: Unrecognized command found at '^' position.",
    "h3c_comware": "% Unrecognized command found at '^' position.",
    "cisco_ios": "% Invalid input detected at '^' marker.",
}
INCOMPLETE = {
    "huawei_vrp": "Error: Incomplete command found at '^' position.",
    "h3c_comware": "% Incomplete command found at '^' position.",
    "cisco_ios": "% Incomplete command.",
}
NAMES = {"huawei_vrp": "hw", "h3c_comware": "h3c", "cisco_ios": "ios"}
ALL = pytest.mark.parametrize("platform", list(NAMES))


def change(platform: str, description: str) -> list[str]:
    return [f"interface {PORT[platform]}", f" description {description}", EXIT[platform], LOCATION[platform]]


@ALL
def test_push_save_and_read_back(lab: Lab, secrets_env: SecretResolver, platform: str) -> None:
    name = f"{NAMES[platform]}-1"
    lines = change(platform, "to-unit-42")
    with open_session(lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
        transcript = session.push(lines)
        session.save()
        running = session.running_config()
    assert " description to-unit-42" in transcript
    assert f"interface {PORT[platform]}\n" in running
    assert "Luohe-lab" in running
    assert running == lab.running(name)  # echo, prompt and preamble gone: the device's own text
    startup = (lab.state / f"{name}.startup.cfg").read_text()
    assert "description to-unit-42" in startup


@ALL
def test_send_runs_exec_commands_and_checks_their_answer(
    lab: Lab, secrets_env: SecretResolver, platform: str
) -> None:
    show = "show version" if platform == "cisco_ios" else "display version"
    with open_session(
        lab.device(f"{NAMES[platform]}-1"), resolver=secrets_env, known_hosts=lab.known_hosts
    ) as s:
        output = s.send(show)
        with pytest.raises(CommandRejected) as caught:
            s.send("displya version")
        assert s.send(show) == output  # still in step after a rejection
    assert "uptime is" in output
    assert show not in output and not output.rstrip().endswith(("#", ">"))
    assert caught.value.device_message == UNKNOWN[platform]


@ALL
def test_rejected_line_stops_the_push_with_the_device_message(
    lab: Lab, secrets_env: SecretResolver, platform: str
) -> None:
    name = f"{NAMES[platform]}-f"
    lines = [*change(platform, "before-reject"), LOCATION[platform].replace("location", "contact")]
    set_fault(lab.state, name, "reject=location")
    try:
        with open_session(lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
            with pytest.raises(CommandRejected) as caught:
                session.push(lines)
            after = session.running_config()  # back in exec mode, still usable
    finally:
        lab.heal(name)
    exc = caught.value
    assert exc.device == name
    assert exc.command == LOCATION[platform]
    assert exc.device_message == UNKNOWN[platform]
    assert exc.accepted == tuple(lines[:3])
    assert f"{LOCATION[platform]!r} rejected: {UNKNOWN[platform]}" in str(exc)
    assert "description before-reject" in after
    assert "Luohe-lab" not in after and "contact" not in after  # nothing after the rejected line


@ALL
@pytest.mark.parametrize(("line", "messages"), [("interfcae LoopBack7", UNKNOWN), ("interface", INCOMPLETE)])
def test_device_errors_are_never_silent(
    lab: Lab, secrets_env: SecretResolver, platform: str, line: str, messages: dict[str, str]
) -> None:
    with (
        open_session(
            lab.device(f"{NAMES[platform]}-1"), resolver=secrets_env, known_hosts=lab.known_hosts
        ) as s,
        pytest.raises(CommandRejected) as caught,
    ):
        s.push([line])
    assert caught.value.device_message == messages[platform]
    assert caught.value.accepted == ()


@pytest.mark.parametrize(
    ("platform", "block"),
    [
        ("cisco_ios", ["banner motd %", "Authorised access only.", "Luohe e-government network%"]),
        (
            "huawei_vrp",
            ["header login information %", "Authorised access only.", "Luohe e-government network%"],
        ),
    ],
)
def test_multi_line_banner_is_one_answer(
    lab: Lab, secrets_env: SecretResolver, platform: str, block: list[str]
) -> None:
    name = f"{NAMES[platform]}-1"
    with open_session(lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
        session.push([*block, LOCATION[platform]])
        running = session.running_config()
    assert "Authorised access only." in running and "Luohe-lab" in running


@ALL
def test_a_line_leaving_configuration_mode_is_an_error(
    lab: Lab, secrets_env: SecretResolver, platform: str
) -> None:
    leave = "end" if platform == "cisco_ios" else "return"
    with (
        open_session(
            lab.device(f"{NAMES[platform]}-1"), resolver=secrets_env, known_hosts=lab.known_hosts
        ) as s,
        pytest.raises(SessionError, match="left configuration mode") as caught,
    ):
        s.push([LOCATION[platform], leave, f"interface {PORT[platform]}"])
    assert caught.value.accepted == (LOCATION[platform], leave)


def test_auth_failure(lab: Lab, secrets_env: SecretResolver) -> None:
    set_fault(lab.state, "ios-f", "auth-fail")
    try:
        with pytest.raises(DeviceError, match=r"^ios-f \(127\.0\.21\.\d+:\d+\): authentication failed$"):
            open_session(
                lab.device("ios-f"), resolver=secrets_env, known_hosts=lab.known_hosts, timeouts=FAST
            )
    finally:
        lab.heal("ios-f")


@ALL
def test_connection_dropped_mid_push(lab: Lab, secrets_env: SecretResolver, platform: str) -> None:
    name = f"{NAMES[platform]}-f"
    lines = change(platform, "dropped")
    set_fault(lab.state, name, "ssh-drop")  # the simulator hangs up at the second config line
    try:
        with open_session(
            lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts, timeouts=FAST
        ) as s:
            start = time.monotonic()
            with pytest.raises(ConnectionLost) as caught:
                s.push(lines)
            elapsed = time.monotonic() - start
    finally:
        lab.heal(name)
    assert str(caught.value).endswith("connection lost after 1 of 4 lines")
    assert caught.value.accepted == (lines[0],)
    assert elapsed < FAST.command  # seen at once, not after a read timeout


def test_slow_device_beyond_the_timeout(lab: Lab, secrets_env: SecretResolver) -> None:
    quick = Timeouts(connect=3.0, command=1.0, save=1.0)
    device = lab.device("hw-f")
    try:
        with open_session(device, resolver=secrets_env, known_hosts=lab.known_hosts, timeouts=quick) as s:
            set_fault(lab.state, "hw-f", "slow=8000")
            start = time.monotonic()
            with pytest.raises(DeviceTimeout, match=r"no answer within 1 s to 'system-view' after 0 of 1"):
                s.push([LOCATION["huawei_vrp"]])
            assert time.monotonic() - start < 7.0  # gave up at the timeout, did not wait for the 8 s answer
            with pytest.raises(DeviceError, match="session is closed"):
                s.send("display version")
        with pytest.raises(DeviceTimeout, match=r"no answer within 1 s"):
            open_session(device, resolver=secrets_env, known_hosts=lab.known_hosts, timeouts=quick)
    finally:
        lab.heal("hw-f")


def test_unknown_host_key(lab: Lab, secrets_env: SecretResolver, tmp_path: Path) -> None:
    others = tmp_path / "known_hosts"
    address = lab.addresses["ios-1"]
    kept = [x for x in lab.known_hosts.read_text().splitlines() if not x.startswith(f"[{address}]")]
    others.write_text("\n".join(kept) + "\n")
    port = lab.sim.spec("ios-1").port
    expected = f"host key of {address}:{port} not known (known_hosts: {others})"
    with pytest.raises(DeviceError) as caught:
        open_session(lab.device("ios-1"), resolver=secrets_env, known_hosts=others, timeouts=FAST)
    assert str(caught.value).endswith(expected)


def test_wrong_host_key(lab: Lab, secrets_env: SecretResolver, tmp_path: Path) -> None:
    spec = lab.sim.spec("hw-1")
    impostor = ensure_host_key(tmp_path / "impostor_key")
    bad = tmp_path / "known_hosts"
    bad.write_text(known_hosts_line(spec.address, spec.port, impostor) + "\n")
    expected = f"host key of {spec.address}:{spec.port} does not match (known_hosts: {bad})"
    with pytest.raises(DeviceError) as caught:
        open_session(lab.device("hw-1"), resolver=secrets_env, known_hosts=bad, timeouts=FAST)
    assert str(caught.value).endswith(expected)
    with pytest.raises(DeviceError, match=r"known_hosts file .* does not exist"):
        open_session(lab.device("hw-1"), resolver=secrets_env, known_hosts=tmp_path / "nope", timeouts=FAST)


def test_nothing_listening(lab: Lab, secrets_env: SecretResolver, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind((lab.addresses["ios-1"], 0))
        free = sock.getsockname()[1]
    known = tmp_path / "known_hosts"
    key = ensure_host_key(lab.sim.spec("ios-1").key_path)
    known.write_text(known_hosts_line(lab.addresses["ios-1"], free, key) + "\n")
    with pytest.raises(DeviceError, match=r"cannot connect: connection refused$"):
        open_session(lab.device("ios-1", port=free), resolver=secrets_env, known_hosts=known)


def test_enable_without_a_secret_or_with_a_wrong_one(
    lab: Lab, secrets_env: SecretResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DeviceError, match=r"'enable' asks for a password; set credentials.enable"):
        open_session(lab.device("ios-1", enable=False), resolver=secrets_env, known_hosts=lab.known_hosts)
    monkeypatch.setenv("GOVNET_TEST_ENABLE", "not-the-enable-secret")
    with pytest.raises(DeviceError, match=r"'enable' refused \(privileged mode not reached\)$") as caught:
        open_session(lab.device("ios-1"), resolver=SecretResolver(), known_hosts=lab.known_hosts)
    assert "not-the-enable-secret" not in str(caught.value)


@ALL
def test_secrets_never_reach_exceptions_or_logs(
    lab: Lab,
    secrets_env: SecretResolver,
    platform: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    community_file = tmp_path / "community"
    community_file.write_text("c0mmunity-Luohe-9\n")
    community_file.chmod(0o600)
    community = secrets_env.resolve(f"file:{community_file}")
    if platform == "cisco_ios":
        ok, bad = f"snmp-server community {community} RO", f"snmp-server community {community}x RW"
    else:
        ok, bad = f"snmp-agent community read {community}", f"snmp-agent community write {community}x"
    name = f"{NAMES[platform]}-f"
    set_fault(lab.state, name, "reject=community write|RW")
    caplog.set_level(logging.DEBUG)
    for logger in ("netmiko", "paramiko", "paramiko.transport"):
        logging.getLogger(logger).setLevel(logging.DEBUG)
    try:
        with open_session(lab.device(name), resolver=secrets_env, known_hosts=lab.known_hosts) as session:
            with pytest.raises(CommandRejected) as caught:
                session.push([ok, bad])
            shown = repr(session)
    finally:
        lab.heal(name)
        for logger in ("netmiko", "paramiko", "paramiko.transport"):
            logging.getLogger(logger).setLevel(logging.NOTSET)
    exc = caught.value
    texts = [
        str(exc),
        repr(exc),
        exc.command or "",
        exc.device_message or "",
        *exc.accepted,
        shown,
        caplog.text,
    ]
    for text in texts:
        for secret in (PASSWORD, ENABLE, community):
            assert secret not in text
    assert exc.command == bad.replace(community, "****")
    assert exc.accepted == (ok.replace(community, "****"),)
    assert "write_channel" in caplog.text and "****" in caplog.text  # netmiko did log the lines
    assert f"{ok.split(community)[0]}" in lab.running(name)  # applied (the device hashes it)


def test_close_is_idempotent_and_final(lab: Lab, secrets_env: SecretResolver) -> None:
    session = open_session(lab.device("h3c-1"), resolver=secrets_env, known_hosts=lab.known_hosts)
    session.close()
    session.close()
    with pytest.raises(DeviceError, match="session is closed"):
        session.push([LOCATION["h3c_comware"]])
