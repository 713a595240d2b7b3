"""Simulated devices over real SSH on 127.0.21.x for the session tests (fixtures in conftest.py).

One simulator per test module (a thread serving every device), a known_hosts file it wrote,
and inventory ``Device`` records whose credentials are ``env:`` references set per test. Each
platform has a clean device and a fault device; fault tests heal theirs whatever happens.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from govnet.devices import Timeouts
from govnet.inventory.models import Device
from govnet.lab.devsim import BackgroundDevsim, DeviceSpec, clear_faults, write_known_hosts
from govnet.secrets import SecretResolver
from tests.helpers import need

PASSWORD = "Sess-pw-3141-xyzzy"
ENABLE = "Sess-en-2718-plugh"
PLATFORMS = ("huawei_vrp", "h3c_comware", "cisco_ios")
SHORT = {"huawei_vrp": "hw", "h3c_comware": "h3c", "cisco_ios": "ios"}
# Short timeouts: a fault must fail a test in well under a second, not after netmiko's 20 s.
FAST = Timeouts(connect=3.0, command=2.0, save=5.0)


@dataclass
class Lab:
    sim: BackgroundDevsim
    state: Path
    known_hosts: Path
    addresses: dict[str, str]

    def device(self, name: str, *, enable: bool = True, port: int | None = None) -> Device:
        spec = self.sim.spec(name)
        credentials = {"username": spec.username, "password": "env:GOVNET_TEST_SSH_PASSWORD"}
        if enable:
            credentials["enable"] = "env:GOVNET_TEST_ENABLE"
        return Device.model_validate(
            {
                "name": name,
                "platform": spec.platform,
                "host": spec.address,
                "port": spec.port if port is None else port,
                "credentials": credentials,
            }
        )

    def running(self, name: str) -> str:
        return self.sim.handle.devices[name].running_text()

    def heal(self, name: str) -> None:
        clear_faults(self.state, name)


def _loopback_usable(address: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


def serve_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    need(_loopback_usable("127.0.21.1"), "cannot bind 127.0.21.1 (Linux answers all of 127/8 on lo)")
    state = tmp_path_factory.mktemp("devsim")
    specs = []
    for index, platform in enumerate(PLATFORMS):
        for offset, role in enumerate(("", "-f")):
            name = f"{SHORT[platform]}{role or '-1'}"
            specs.append(
                DeviceSpec(
                    name=name,
                    platform=platform,
                    address=f"127.0.21.{10 * index + offset + 1}",
                    port=0,
                    username="netops",
                    password=PASSWORD,
                    enable_secret=ENABLE,
                    state_dir=state,
                    banner="Authorised access only",
                )
            )
    with BackgroundDevsim(specs) as sim:
        known_hosts = state / "known_hosts"
        write_known_hosts(known_hosts, sim.specs)
        yield Lab(sim, state, known_hosts, {s.name: s.address for s in sim.specs})


def lab_secrets(monkeypatch: pytest.MonkeyPatch) -> SecretResolver:
    """The lab's credentials in the environment, and a fresh resolver for them."""
    monkeypatch.setenv("GOVNET_TEST_SSH_PASSWORD", PASSWORD)
    monkeypatch.setenv("GOVNET_TEST_ENABLE", ENABLE)
    return SecretResolver()
