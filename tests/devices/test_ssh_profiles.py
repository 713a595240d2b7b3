"""SSH algorithm profiles against simulated devices over real SSH (127.0.22.x): a ``legacy`` device
(IOS 15 / VRP5: SHA-1 key exchange, ssh-rsa, CBC, hmac-sha1) refuses govnet's ``modern`` offer with
one line naming what it offers, accepts the ``legacy`` profile, and keeps strict RSA host keys."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import paramiko  # type: ignore[import-untyped]
import pytest

from govnet.devices import open_session
from govnet.devices.negotiation import disabled_algorithms
from govnet.errors import DeviceError
from govnet.inventory.loader import load
from govnet.lab.devsim import DeviceSpec
from govnet.secrets import SecretResolver
from govnet.sshalgs import KINDS, KNOWN, algorithms
from tests.devices.devlab import FAST, lab_secrets
from tests.helpers import DATA, ROOT
from tests.simkit import SimDevices, simulated

PASSWORD = "Prof-pw-1618-quux"
ADVICE = "set ssh: {profile: legacy} for it in the inventory (or list the algorithm under ssh.kex)"
OFFERED_KEX = "diffie-hellman-group14-sha1, diffie-hellman-group-exchange-sha1"


SshLab = SimDevices


@pytest.fixture(scope="module")
def sshlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    state = tmp_path_factory.mktemp("sshprofiles")
    specs = [
        DeviceSpec(
            name=name,
            platform=platform,
            address=address,
            port=0,
            username="netops",
            password=PASSWORD,
            enable_secret="Prof-en-2236-frob",
            state_dir=state,
            ssh=profile,
        )
        for name, platform, address, profile in (
            ("ios-legacy", "cisco_ios", "127.0.22.1", "legacy"),
            ("vrp-legacy", "huawei_vrp", "127.0.22.2", "legacy"),
            ("ios-modern", "cisco_ios", "127.0.22.3", "modern"),
        )
    ]
    with simulated(specs) as lab:
        yield lab


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> SecretResolver:
    resolver = lab_secrets(monkeypatch)
    monkeypatch.setenv("GOVNET_TEST_SSH_PASSWORD", PASSWORD)
    monkeypatch.setenv("GOVNET_TEST_ENABLE", "Prof-en-2236-frob")
    return resolver


@pytest.mark.parametrize("profile", ["modern", "legacy"])
def test_paramiko_offers_exactly_the_profile(profile: str) -> None:
    """What a paramiko 4 transport would put in its KEXINIT with our ``disabled_algorithms``."""
    allowed = algorithms(profile)
    left, right = socket.socketpair()
    try:
        transport = paramiko.Transport(left, disabled_algorithms=disabled_algorithms(allowed))
        offered = {
            "kex": transport.preferred_kex,
            "host_key_algorithms": tuple(k for k in transport.preferred_keys if "-cert-" not in k),
            "ciphers": transport.preferred_ciphers,
            "macs": transport.preferred_macs,
        }
    finally:
        left.close()
        right.close()
    for kind in KINDS:
        assert set(offered[kind]) == set(allowed.of(kind)), kind
    if profile == "modern":
        everything = " ".join(name for kind in KINDS for name in offered[kind])
        for weak in ("sha1", "ssh-rsa", "-cbc", "md5"):
            assert weak not in everything.replace("rsa-sha2", ""), weak


def test_known_names_are_what_paramiko_implements() -> None:
    tables = {
        "kex": paramiko.Transport._kex_info,
        "host_key_algorithms": paramiko.Transport._key_info,
        "ciphers": paramiko.Transport._cipher_info,
        "macs": paramiko.Transport._mac_info,
    }
    for kind in KINDS:
        assert set(KNOWN[kind]) <= set(tables[kind]), kind
        # paramiko's own preference list holds nothing we neither allow nor know about
        assert set(
            getattr(paramiko.Transport, f"_preferred_{'keys' if kind == 'host_key_algorithms' else kind}")
        ) <= set(KNOWN[kind]), kind


def test_modern_profile_against_a_legacy_device_fails_in_one_line(
    sshlab: SshLab,
    secrets: SecretResolver,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeviceError) as failed:
        open_session(
            sshlab.device("ios-legacy"), resolver=secrets, known_hosts=sshlab.known_hosts, timeouts=FAST
        )
    assert str(failed.value) == (
        f"{sshlab.where('ios-legacy')}: SSH negotiation failed: no common key exchange; "
        f"the device offers {OFFERED_KEX}; {ADVICE}"
    )
    loud = [r for r in caplog.records if r.name.startswith("paramiko") and r.levelno >= logging.WARNING]
    assert loud == []
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("name", ["ios-legacy", "vrp-legacy"])
def test_legacy_profile_logs_in_reads_pushes_and_saves(
    name: str, sshlab: SshLab, secrets: SecretResolver
) -> None:
    device = sshlab.device(name, {"profile": "legacy"})
    with open_session(device, resolver=secrets, known_hosts=sshlab.known_hosts, timeouts=FAST) as session:
        transport = session._channel._chan.get_transport()
        assert transport.host_key_type == "ssh-rsa"
        assert "sha1" in transport.remote_mac
        assert "hostname" in session.running_config().lower() or "sysname" in session.running_config()
        line = (
            "snmp-agent sys-info location ssh-legacy"
            if name == "vrp-legacy"
            else "snmp-server location ssh-legacy"
        )
        session.push([line])
        session.save()
    assert "ssh-legacy" in sshlab.sim.handle.devices[name].running_text()


def test_modern_profile_still_logs_in_to_a_modern_device(sshlab: SshLab, secrets: SecretResolver) -> None:
    with open_session(
        sshlab.device("ios-modern"), resolver=secrets, known_hosts=sshlab.known_hosts, timeouts=FAST
    ) as s:
        assert s._channel._chan.get_transport().host_key_type == "ssh-ed25519"


LEGACY_ADVICE = "set ssh: {profile: legacy} for it in the inventory (or list the algorithm under ssh.%s)"


@pytest.mark.parametrize(
    ("ssh", "word", "offered", "advice"),
    [
        (
            {"kex": ["diffie-hellman-group14-sha1"], "host_key_algorithms": ["ssh-ed25519", "rsa-sha2-256"]},
            "host key algorithm",
            "ssh-rsa",
            LEGACY_ADVICE % "host_key_algorithms",
        ),
        (
            {"profile": "legacy", "ciphers": ["aes128-gcm@openssh.com"]},
            "cipher",
            "aes128-ctr, aes256-ctr, aes128-cbc, aes256-cbc",
            "list one of aes128-ctr, aes256-ctr, aes128-cbc, aes256-cbc under ssh.ciphers in the inventory",
        ),
        (
            {"profile": "legacy", "macs": ["hmac-sha2-256", "hmac-sha2-512"]},
            "MAC",
            "hmac-sha1",
            "list one of hmac-sha1 under ssh.macs in the inventory",
        ),
    ],
)
def test_each_kind_without_a_common_name_is_one_line(
    ssh: dict[str, Any], word: str, offered: str, advice: str, sshlab: SshLab, secrets: SecretResolver
) -> None:
    with pytest.raises(DeviceError) as failed:
        open_session(
            sshlab.device("vrp-legacy", ssh), resolver=secrets, known_hosts=sshlab.known_hosts, timeouts=FAST
        )
    assert str(failed.value) == (
        f"{sshlab.where('vrp-legacy')}: SSH negotiation failed: no common {word}; the device offers {offered}; {advice}"
    )


def test_a_wrong_rsa_host_key_is_refused(sshlab: SshLab, secrets: SecretResolver, tmp_path: Path) -> None:
    spec = sshlab.sim.spec("ios-legacy")
    other = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    blob = other.export_public_key("openssh").decode().split()[1]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[{spec.address}]:{spec.port} ssh-rsa {blob}\n")
    with pytest.raises(DeviceError) as failed:
        open_session(
            sshlab.device("ios-legacy", {"profile": "legacy"}),
            resolver=secrets,
            known_hosts=known_hosts,
            timeouts=FAST,
        )
    assert str(failed.value) == (
        f"{sshlab.where('ios-legacy')}: host key of {spec.address}:{spec.port} does not match (known_hosts: {known_hosts})"
    )


def test_cli_prints_only_the_one_line(sshlab: SshLab, tmp_path: Path) -> None:
    """Through the real CLI in a subprocess: paramiko's own ERROR lines and traceback (logged from
    its transport thread, printed by Python's last-resort handler) must not reach the user."""
    spec = sshlab.sim.spec("vrp-legacy")
    text = (DATA / "valid" / "minimal.yml").read_text(encoding="utf-8")
    text = text.replace("management: [10.40.0.0/16]", "management: [10.40.0.0/16, 127.0.0.0/8]")
    text = text.replace(
        "{name: FGW-AS01, host: 10.40.10.11}", f"{{name: FGW-AS01, host: {spec.address}, port: {spec.port}}}"
    )
    assert str(spec.port) in text
    (tmp_path / "inventory.yml").write_text(text, encoding="utf-8")
    env = {**os.environ, "GOVNET_SSH_PASSWORD": PASSWORD, "GOVNET_SNMP_COMMUNITY": "unused-here"}
    env.pop("GOVNET_DEBUG", None)
    argv = [
        "config",
        "backup",
        "sz-fagaiwei",
        "--json",
        "--quiet",
        "--inventory",
        str(tmp_path / "inventory.yml"),
    ]
    argv += ["--known-hosts", str(sshlab.known_hosts), "--state", str(tmp_path / "state")]
    result = subprocess.run(
        [sys.executable, "-m", "govnet", *argv],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.stderr == ""
    assert result.returncode != 0
    details = [d for d in _strings(json.loads(result.stdout)) if "negotiation" in d]
    assert details == [
        f"FGW-AS01 ({spec.address}:{spec.port}): SSH negotiation failed: no common key exchange; "
        f"the device offers {OFFERED_KEX}; {ADVICE}"
    ]


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def test_groups_and_devices_merge_ssh_settings(tmp_path: Path) -> None:
    text = (DATA / "valid" / "minimal.yml").read_text(encoding="utf-8")
    text = text.replace(
        "    device: {platform: huawei_vrp, uplink: GigabitEthernet0/0/24}\n",
        "    device: {platform: huawei_vrp, uplink: GigabitEthernet0/0/24, ssh: {profile: legacy}}\n",
    )
    text = text.replace(
        "{name: FGW-AS01, host: 10.40.10.11}", "{name: FGW-AS01, host: 10.40.10.11, ssh: {macs: [hmac-sha1]}}"
    )
    (tmp_path / "inventory.yml").write_text(text, encoding="utf-8")
    inventory = load(tmp_path / "inventory.yml").inventory
    fagaiwei = inventory.unit("sz-fagaiwei")
    caizheng = inventory.unit("sz-caizheng")
    wanjin = inventory.unit("zl-wanjin")
    assert fagaiwei is not None and caizheng is not None and wanjin is not None
    assert (fagaiwei.device.ssh.profile, fagaiwei.device.ssh.macs) == ("legacy", ["hmac-sha1"])
    assert fagaiwei.device.ssh.algorithms().macs == ("hmac-sha1",)
    assert "diffie-hellman-group14-sha1" in fagaiwei.device.ssh.algorithms().kex
    assert (caizheng.device.ssh.profile, caizheng.device.ssh.macs) == ("legacy", None)
    assert wanjin.device.ssh.profile == "modern"  # not in the group


def test_shipped_inventory_sets_legacy_on_the_ios_access_switches() -> None:
    inventory = load(ROOT / "inventory").inventory
    ios = [d for u in inventory.units for d in u.devices if d.platform == "cisco_ios"]
    assert ios and all(d.ssh.profile == "legacy" for d in ios if d.model == "WS-C2960X-24TS-L")
