"""govnet against a peer we did not write: OpenSSH's ``sshd`` restricted to what an IOS 15 Catalyst
or a VRP5 S-series offers (SHA-1 key exchange, an ``ssh-rsa`` host key, CBC/ctr, hmac-sha1), with a
simulated device of each platform behind it (issue #14).

sshd listens on 127.0.23.1 (a plain shell: negotiation and authentication) and on 127.0.23.2-4,
where a ``Match LocalAddress`` block's ``ForceCommand`` runs ``python -m govnet.lab.devsim.stdio``
for the device at that address: one device per address, as in the field, each login a process of
its own on the pty sshd made, the device's state in its state folder. govnet logs in with strict
host keys and the ``legacy`` profile, and backs up, pushes, saves, verifies and restores, then
plans, applies and rolls back a rollout through its public API.

The test user exists only for sshd: it runs in a private mount namespace (``unshare --mount``)
where a passwd and shadow made by the test are bind-mounted over /etc/passwd and /etc/shadow and a
tmpfs covers /run (sshd's privilege-separation directory); the machine's own files are untouched.
The device runs as that user (uid 4242, not root: a device needs no privilege), so in the
namespace it must reach the interpreter, the venv and the repository: a folder on their way that
others may not enter (``/root`` for a pyenv Python) is covered by a tmpfs (in the namespace
only) through which exactly those trees are bind-mounted back. Its state folder (the test's,
mode 0700, owned by uid 4242) is bind-mounted at /run/govnet-devsim, its home.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from govnet.devices import ConnectionLost
from govnet.devices.session import open_session
from govnet.devices.transport import Channel, connect
from govnet.errors import DeviceError
from govnet.inventory.loader import load
from govnet.lab.devsim import clear_faults, set_fault
from govnet.rollout import apply
from govnet.rollout.context import Context
from govnet.rollout.plan import build_plan
from govnet.rollout.restore import differences, restore_commands, same_config
from govnet.rollout.rollback import rollback
from govnet.secrets import SecretResolver
from govnet.sshalgs import algorithms
from tests.helpers import ROOT, need, stop

pytestmark = pytest.mark.lab

ADDRESS = "127.0.23.1"
USER = "netops"
UID = 4242
PASSWORD = "Peer-pw-5772-zork"
ENABLE = "Peer-en-6021-frotz"
HOME = "/run/govnet-devsim"
"""The device user's home and the devices' state folder, inside sshd's namespace."""
DEVICES = {  # platform: (device, address)
    "cisco_ios": ("IOS-1", "127.0.23.2"),
    "huawei_vrp": ("VRP-1", "127.0.23.3"),
    "h3c_comware": ("CMW-1", "127.0.23.4"),
}
ALL = pytest.mark.parametrize("platform", list(DEVICES))
LEGACY_CONFIG = """\
KexAlgorithms diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1
HostKeyAlgorithms ssh-rsa
PubkeyAcceptedAlgorithms ssh-rsa
Ciphers aes128-cbc,aes256-cbc,aes128-ctr
MACs hmac-sha1
"""
PORT = {
    "huawei_vrp": "GigabitEthernet0/0/2",
    "h3c_comware": "GigabitEthernet1/0/2",
    "cisco_ios": "GigabitEthernet0/1",
}
EXIT = {"huawei_vrp": "quit", "h3c_comware": "quit", "cisco_ios": "exit"}
LOCATION = {
    "huawei_vrp": "snmp-agent sys-info location OpenSSH-peer",
    "h3c_comware": "snmp-agent sys-info location OpenSSH-peer",
    "cisco_ios": "snmp-server location OpenSSH-peer",
}
UNIT = """\
  - id: u-{short}
    name: 测试{short}
    slug: {short}
    kind: bureau
    parent: core-city
    segments:
      intranet: {{address: 10.112.{n}.1/24, vlan: {vlan}}}
    devices:
      - {{name: {name}, platform: {platform}, host: {address}, port: {port}, ssh: {{profile: legacy}}}}
    registration: {{number: 备2006-00{n}, date: 2006-02-01}}
    agreement: {{signed: 2006-03-01, signatory: 王伟}}
"""
INVENTORY = """\
site: {{name: 测试市, slug: testcity, operator: 测试市信息化办公室, management: [127.0.0.0/8]}}
segments:
  intranet: {{description: 电子政务内网, supernets: [10.112.0.0/16], vrf: INTRANET, vlans: {{first: 101, last: 999}}}}
defaults:
  device:
    credentials: {{username: {user}, password: env:GOVNET_SSH_PASSWORD, enable: env:GOVNET_ENABLE}}
    snmp: {{version: v2c, community: env:GOVNET_SNMP_COMMUNITY}}
nodes:
  - id: core-city
    name: 核心节点
    slug: city-core
    kind: core
    segments:
      intranet: {{address: 10.112.250.1/32}}
    devices:
      - {{name: CORE-01, platform: huawei_vrp, host: 127.0.23.99}}
units:
{units}"""


@dataclass
class Sshd:
    port: int
    known_hosts: Path
    log: Path
    state: Path
    """The devices' state folder, as seen from the test (``HOME`` inside the namespace)."""
    tmp: Path


def _short(platform: str) -> str:
    return platform.split("_", maxsplit=1)[0]


def _free_port() -> int:
    """A port free on every address sshd listens on."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind((ADDRESS, 0))
            port: int = sock.getsockname()[1]
        try:
            for address in (ADDRESS, *(a for _, a in DEVICES.values())):
                with socket.socket() as sock:
                    sock.bind((address, port))
        except OSError:
            continue
        return port
    raise AssertionError("no port free on 127.0.23.1-4")


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def _closed_to_others(path: Path) -> Path | None:
    """The first folder on the way to ``path`` (itself included) that other users may not enter."""
    for folder in [*reversed(path.parents), path]:
        if not folder.stat().st_mode & 0o001:
            return folder
    return None


def _expose(trees: list[Path], tmp: Path) -> str:
    """Shell lines (run in the namespace) that let uid ``UID`` reach ``trees``: each closed folder
    on their way is covered by a tmpfs, through which the trees are bind-mounted back."""
    closed = {t: c for t in trees if (c := _closed_to_others(t)) is not None}
    covers = {c for c in closed.values() if not any(c != o and c.is_relative_to(o) for o in closed.values())}
    assert not any(tmp.is_relative_to(c) for c in covers), f"{tmp} would be hidden by the tmpfs over {covers}"
    lines = [
        f"mkdir /run/expose-{i}; mount --bind {shlex.quote(str(t))} /run/expose-{i}"
        for i, t in enumerate(closed)
    ]
    lines += [f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(str(c))}" for c in sorted(covers)]
    lines += [
        f"mkdir -p {shlex.quote(str(t))}; mount --bind /run/expose-{i} {shlex.quote(str(t))}"
        for i, t in enumerate(closed)
    ]
    return "; ".join(lines)


def _device_command(name: str) -> str:
    return (
        f"exec {shlex.quote(sys.executable)} -m govnet.lab.devsim.stdio "
        f"--spec {HOME}/devices.json --device {name}"
    )


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    for binary in ("/usr/sbin/sshd", "ssh-keygen", "unshare", "setpriv", "openssl"):
        need(shutil.which(binary) is not None, f"{binary} not installed (Debian: openssh-server, util-linux)")
    need(os.geteuid() == 0, "sshd in a private mount namespace needs root")
    tmp = tmp_path_factory.mktemp("sshd")
    state = tmp / "devsim"
    state.mkdir(mode=0o700)
    os.chown(state, UID, UID)
    specs = [
        {
            "name": name,
            "platform": platform,
            "address": address,
            "username": USER,
            "password": PASSWORD,
            "enable_secret": ENABLE,
            "state_dir": HOME,
        }
        for platform, (name, address) in DEVICES.items()
    ]
    spec_file = state / "devices.json"
    spec_file.write_text(json.dumps({"devices": specs}, indent=1) + "\n")
    spec_file.chmod(0o600)
    os.chown(spec_file, UID, UID)
    key = tmp / "ssh_host_rsa_key"
    _run("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key))
    hashed = _run("openssl", "passwd", "-6", PASSWORD).strip()
    (tmp / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "sshd:x:104:65534::/run/sshd:/usr/sbin/nologin\n"
        f"{USER}:x:{UID}:{UID}:netops:{HOME}:/bin/sh\n"
    )
    shadow = tmp / "shadow"
    shadow.write_text(
        f"root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n{USER}:{hashed}:19000:0:99999:7:::\n"
    )
    shadow.chmod(0o600)
    port = _free_port()
    log = tmp / "sshd.log"
    listen = "".join(f"ListenAddress {a}:{port}\n" for a in (ADDRESS, *(a for _, a in DEVICES.values())))
    forced = "".join(
        f"Match LocalAddress {address}\n  DisableForwarding yes\n  ForceCommand {_device_command(name)}\n"
        for name, address in DEVICES.values()
    )
    (tmp / "sshd_config").write_text(
        f"{listen}HostKey {key}\nPidFile none\nUsePAM no\nStrictModes no\n"
        "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPermitRootLogin no\n"
        f"AllowUsers {USER}\nPrintMotd no\nPrintLastLog no\nLogLevel DEBUG1\n" + LEGACY_CONFIG + forced
    )
    python = Path(sys.executable)
    trees = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), python.parent.resolve(), ROOT]
    check_as_device = (  # fail here, with a reason, rather than at the first login
        f"cd {HOME}; setpriv --reuid={UID} --regid={UID} --clear-groups "
        f"{shlex.quote(str(python))} -c 'import govnet.lab.devsim.stdio' "
        f"|| {{ echo 'uid {UID} cannot import govnet.lab.devsim.stdio'; exit 3; }}"
    )
    script = "; ".join(
        [
            "set -e; mount --make-rprivate /",
            f"mount --bind {tmp / 'passwd'} /etc/passwd; mount --bind {shadow} /etc/shadow",
            "mount -t tmpfs -o mode=0755 tmpfs /run; mkdir -m 0755 /run/sshd",
            f"mkdir {HOME}; mount --bind {state} {HOME}",
            _expose(trees, tmp),
            check_as_device,
            f"exec /usr/sbin/sshd -D -e -f {tmp / 'sshd_config'}",
        ]
    )
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["unshare", "--mount", "sh", "-c", script], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((ADDRESS, port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not start: {log.read_text()}")
                time.sleep(0.05)
        algorithm, blob = (tmp / "ssh_host_rsa_key.pub").read_text().split()[:2]
        known_hosts = tmp / "known_hosts"
        hosts = (ADDRESS, *(a for _, a in DEVICES.values()))
        known_hosts.write_text("".join(f"[{host}]:{port} {algorithm} {blob}\n" for host in hosts))
        yield Sshd(port, known_hosts, log, state, tmp)
    finally:
        stop(proc)


@pytest.fixture
def ctx(sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("GOVNET_SSH_PASSWORD", PASSWORD)
    monkeypatch.setenv("GOVNET_ENABLE", ENABLE)
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "Peer-snmp-4477")
    units = "".join(
        UNIT.format(
            short=_short(platform),
            n=n,
            vlan=100 + n,
            name=name,
            platform=platform,
            address=address,
            port=sshd.port,
        )
        for n, (platform, (name, address)) in enumerate(DEVICES.items(), start=1)
    )
    path = tmp_path / "inventory.yml"
    path.write_text(INVENTORY.format(user=USER, units=units), encoding="utf-8")
    inventory = load(path).inventory
    return Context(path, inventory, ROOT / "configs", tmp_path / "state", sshd.known_hosts, SecretResolver())


def _connect(sshd: Sshd, profile: str) -> object:
    return connect(
        where="peer",
        device_type="cisco_ios",
        host=ADDRESS,
        port=sshd.port,
        username=USER,
        password=PASSWORD,
        secret="",
        known_hosts=sshd.known_hosts,
        connect_timeout=5.0,
        read_timeout=5.0,
        ssh=algorithms(profile),
    )


def _session_ended(sshd: Sshd, name: str, wait: float = 5.0) -> bool:
    """The device's session process has gone (it holds ``<name>.lock`` while it runs)."""
    fd = os.open(sshd.state / f"{name}.lock", os.O_RDWR)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
    finally:
        os.close(fd)


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.split("\n")}


def test_legacy_profile_negotiates_and_authenticates_with_openssh(sshd: Sshd) -> None:
    conn = _connect(sshd, "legacy")
    try:
        transport = conn.remote_conn.get_transport()  # type: ignore[attr-defined]
        assert transport.is_authenticated()
        assert transport.host_key_type == "ssh-rsa"
        assert transport.remote_mac == "hmac-sha1"
        assert transport.remote_cipher in ("aes128-ctr", "aes128-cbc", "aes256-cbc")
        conn.write_channel("echo peer-$((6*7))\n")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 5
        seen = ""
        while "peer-42" not in seen and time.monotonic() < deadline:
            seen += conn.read_channel()  # type: ignore[attr-defined]
            time.sleep(0.05)
        assert "peer-42" in seen
    finally:
        Channel(conn).close()
    assert f"Accepted password for {USER}" in sshd.log.read_text()


def test_modern_profile_fails_in_one_line_naming_what_sshd_offers(sshd: Sshd) -> None:
    with pytest.raises(DeviceError) as failed:
        _connect(sshd, "modern")
    assert str(failed.value) == (
        "peer: SSH negotiation failed: no common key exchange; the device offers "
        "diffie-hellman-group14-sha1, diffie-hellman-group-exchange-sha1; "
        "set ssh: {profile: legacy} for it in the inventory (or list the algorithm under ssh.kex)"
    )


@ALL
def test_backup_push_save_verify_restore_through_openssh(sshd: Sshd, ctx: Context, platform: str) -> None:
    """Each step is a login of its own: the device behind sshd is a new process each time, so
    what the second login shows proves the device kept its running config across logins."""
    name = DEVICES[platform][0]
    device = ctx.device(ctx.element(f"u-{_short(platform)}"), name)
    change = [f"interface {PORT[platform]}", " description via-openssh", EXIT[platform], LOCATION[platform]]
    with ctx.session(device) as session:
        backup = session.running_config()
        session.push(change)
        session.save()
    assert _session_ended(sshd, name)
    with ctx.session(device) as session:
        shown = session.running_config()
    assert {"description via-openssh", LOCATION[platform]} <= _lines(shown)
    startup = (sshd.state / f"{name}.startup.cfg").read_text()
    assert (sshd.state / f"{name}.startup.cfg").stat().st_uid == UID  # the device ran as the user
    assert {"description via-openssh", LOCATION[platform]} <= _lines(startup)

    commands = restore_commands(platform, shown, backup)
    assert commands, "the restore must undo the change"
    with ctx.session(device) as session:
        session.push(commands)
        session.save()
    with ctx.session(device) as session:
        after = session.running_config()
    assert same_config(platform, after, backup)
    assert "via-openssh" not in (sshd.state / f"{name}.startup.cfg").read_text()
    assert _session_ended(sshd, name)


def test_strict_host_keys_refuse_a_device_whose_key_changed(sshd: Sshd, ctx: Context, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    _run("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(other))
    algorithm, blob = (tmp_path / "other_key.pub").read_text().split()[:2]
    name, address = DEVICES["cisco_ios"]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[{address}]:{sshd.port} {algorithm} {blob}\n")
    device = ctx.device(ctx.element("u-cisco"), name)
    with pytest.raises(DeviceError) as failed:
        open_session(device, resolver=ctx.resolver, known_hosts=known_hosts)
    assert "host key" in str(failed.value).lower(), str(failed.value)


def test_a_rollout_plans_applies_verifies_and_rolls_back_through_openssh(ctx: Context) -> None:
    ids = [f"u-{_short(p)}" for p in DEVICES]
    before = {}
    for unit in ids:
        element = ctx.element(unit)
        with ctx.session(element.devices[0]) as session:
            before[unit] = session.running_config()

    plan = build_plan(ctx, "intranet", ids=ids)
    assert {u.id: u.status for u in plan.units} == dict.fromkeys(ids, "change"), [
        u.reason for u in plan.units
    ]
    options = apply.Options(verify_reachability=False, restore_wait=1.0)
    report = apply.start(ctx, plan, "plan.json", "0" * 64, options)
    assert {o.unit: (o.status, o.reason) for o in report.outcomes} == dict.fromkeys(ids, ("changed", ""))
    again = build_plan(ctx, "intranet", ids=ids)
    assert [u.status for u in again.units] == ["nochange"] * len(ids), [u.commands for u in again.units]

    back = rollback(ctx, report.run_id)
    assert {o.unit: o.status for o in back.outcomes} == dict.fromkeys(ids, "ok"), back.outcomes
    for unit in ids:  # the lines of the backup again (a re-added line may come back elsewhere)
        device = ctx.element(unit).devices[0]
        with ctx.session(device) as session:
            assert differences(device.platform, session.running_config(), before[unit]) == 0


def test_a_connection_dropped_mid_push_keeps_what_the_device_took(sshd: Sshd, ctx: Context) -> None:
    """The ``ssh-drop`` fault ends the device's process at the second configuration line: govnet
    sees the connection lost at once, and the next login shows the line the device had taken."""
    name = DEVICES["huawei_vrp"][0]
    device = ctx.device(ctx.element("u-huawei"), name)
    with ctx.session(device) as session:
        backup = session.running_config()
    lines = [LOCATION["huawei_vrp"], f"interface {PORT['huawei_vrp']}", " description dropped", "quit"]
    set_fault(sshd.state, name, "ssh-drop")
    try:
        with ctx.session(device) as session:
            start = time.monotonic()
            with pytest.raises(ConnectionLost) as caught:
                session.push(lines)
            elapsed = time.monotonic() - start
    finally:
        clear_faults(sshd.state, name)
    assert caught.value.accepted == (lines[0],)
    assert elapsed < 5.0  # seen when sshd closed the channel, not after a read timeout
    assert _session_ended(sshd, name)
    with ctx.session(device) as session:
        shown = session.running_config()
        assert LOCATION["huawei_vrp"] in _lines(shown) and "description dropped" not in _lines(shown)
        session.push(restore_commands("huawei_vrp", shown, backup))
        assert differences("huawei_vrp", session.running_config(), backup) == 0


def _on_pty(argv: list[str], typed: str = "") -> tuple[int, str]:
    """Run ``argv`` on a fresh pty (as sshd would), type ``typed`` once it has written
    something (its first prompt); its exit code and output."""
    main, child = os.openpty()
    proc = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, start_new_session=True)
    os.close(child)
    out = b""
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if select.select([main], [], [], 0.1)[0]:
                try:
                    data = os.read(main, 65536)
                except OSError:  # EIO: the child has gone and its side of the pty closed
                    break
                if not data:
                    break
                if typed and not out:
                    os.write(main, typed.encode())
                out += data
            elif proc.poll() is not None:
                break
        return proc.wait(5), out.decode()
    finally:
        os.close(main)
        stop(proc)


def test_the_stdio_device_answers_problems_in_one_line(tmp_path: Path) -> None:
    """What a user can get wrong (a device not in the spec, a device whose other session is
    still open) is one line on the terminal, never a traceback; a session that works echoes."""
    spec = tmp_path / "devices.json"
    state = tmp_path / "state"
    entry = {
        "name": "IOS-9",
        "platform": "cisco_ios",
        "address": "127.0.23.9",
        "username": USER,
        "password": PASSWORD,
        "state_dir": "state",
    }
    spec.write_text(json.dumps({"devices": [entry]}))
    module = [sys.executable, "-m", "govnet.lab.devsim.stdio", "--spec", str(spec)]

    code, out = _on_pty([*module, "--device", "IOS-8"])
    assert (code, out) == (1, f"devsim: {spec}: no device named IOS-8\r\n")

    code, out = _on_pty([*module, "--device", "IOS-9"], "enable\rshow version | include uptime\rexit\r")
    assert code == 0, out
    assert "IOS-9#show version | include uptime\r\n" in out  # raw pty: the device echoes, CR LF

    state.mkdir(exist_ok=True)
    fd = os.open(state / "IOS-9.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code, out = _on_pty([*module, "--device", "IOS-9", "--wait", "0.2"])
    finally:
        os.close(fd)
    assert (code, out) == (1, "devsim: IOS-9: another session is still open; try again later\r\n")
