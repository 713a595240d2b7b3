"""govnet's SSH negotiation against a peer we did not write: OpenSSH's ``sshd`` restricted to what an
IOS 15 Catalyst or a VRP5 S-series offers (SHA-1 key exchange, an ``ssh-rsa`` host key, CBC/ctr,
hmac-sha1), on 127.0.23.1.

The test user exists only for sshd: it runs in a private mount namespace (``unshare --mount``)
where a passwd and shadow made by the test are bind-mounted over /etc/passwd and /etc/shadow and a
tmpfs covers /run (sshd's privilege-separation directory); the machine's own files are untouched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from govnet.devices.transport import Channel, connect
from govnet.errors import DeviceError
from govnet.sshalgs import algorithms
from tests.helpers import need, stop

pytestmark = pytest.mark.root

ADDRESS = "127.0.23.1"
USER = "netops"
PASSWORD = "Peer-pw-5772-zork"
LEGACY_CONFIG = """\
KexAlgorithms diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1
HostKeyAlgorithms ssh-rsa
PubkeyAcceptedAlgorithms ssh-rsa
Ciphers aes128-cbc,aes256-cbc,aes128-ctr
MACs hmac-sha1
"""


@dataclass
class Sshd:
    port: int
    known_hosts: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        port: int = sock.getsockname()[1]
        return port


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    for binary in ("/usr/sbin/sshd", "ssh-keygen", "unshare", "openssl"):
        need(shutil.which(binary) is not None, f"{binary} not installed (Debian: openssh-server)")
    need(os.geteuid() == 0, "sshd in a private mount namespace needs root")
    tmp = tmp_path_factory.mktemp("sshd")
    home = tmp / "home"
    home.mkdir()
    os.chown(home, 4242, 4242)
    key = tmp / "ssh_host_rsa_key"
    _run("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key))
    hashed = _run("openssl", "passwd", "-6", PASSWORD).strip()
    (tmp / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "sshd:x:104:65534::/run/sshd:/usr/sbin/nologin\n"
        f"{USER}:x:4242:4242:netops:{home}:/bin/sh\n"
    )
    shadow = tmp / "shadow"
    shadow.write_text(
        f"root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n{USER}:{hashed}:19000:0:99999:7:::\n"
    )
    shadow.chmod(0o600)
    port = _free_port()
    log = tmp / "sshd.log"
    (tmp / "sshd_config").write_text(
        f"ListenAddress {ADDRESS}:{port}\nHostKey {key}\nPidFile none\nUsePAM no\nStrictModes no\n"
        "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPermitRootLogin no\n"
        f"AllowUsers {USER}\nLogLevel DEBUG1\n" + LEGACY_CONFIG
    )
    script = (
        "set -e; mount --make-rprivate /; "
        f"mount --bind {tmp / 'passwd'} /etc/passwd; mount --bind {shadow} /etc/shadow; "
        "mount -t tmpfs -o mode=0755 tmpfs /run; mkdir -m 0755 /run/sshd; "
        f"exec /usr/sbin/sshd -D -e -f {tmp / 'sshd_config'}"
    )
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["unshare", "--mount", "sh", "-c", script], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((ADDRESS, port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not start: {log.read_text()}")
                time.sleep(0.05)
        public = (tmp / "ssh_host_rsa_key.pub").read_text().split()
        known_hosts = tmp / "known_hosts"
        known_hosts.write_text(f"[{ADDRESS}]:{port} {public[0]} {public[1]}\n")
        yield Sshd(port, known_hosts, log)
    finally:
        stop(proc)


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
