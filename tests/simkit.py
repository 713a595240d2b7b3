"""The one kit for simulated devices (govnet.lab.devsim) in tests: serve a set of them over real
SSH (``simulated``) and get inventory records for them (``SimDevices``); or connect with stock
netmiko, the way an engineer's script does: the platform's own netmiko driver, and the device's
host key checked against a known_hosts file (never the user's own)."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netmiko import ConnectHandler

from govnet.inventory.models import Device
from govnet.lab.devsim import BackgroundDevsim, DeviceSpec, clear_faults, write_known_hosts
from tests.helpers import need

DRIVERS = {"huawei_vrp": "huawei", "h3c_comware": "hp_comware", "cisco_ios": "cisco_ios"}
"""netmiko's driver (device_type) of each platform."""


def netmiko_to(spec: DeviceSpec, known_hosts: Path, **extra: Any) -> Any:
    """A netmiko session to the simulated device ``spec`` (``extra``: more ConnectHandler options)."""
    return ConnectHandler(
        device_type=DRIVERS[spec.platform],
        host=spec.address,
        port=spec.port,
        username=spec.username,
        password=spec.password,
        secret=spec.enable_secret,
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(known_hosts),
        **extra,
    )


# ------------------------------------------------------------------ the one simulated-device kit


@dataclass
class SimDevices:
    """Simulated devices serving over real SSH (one thread for all), the known_hosts file they
    wrote, and inventory ``Device`` records for them whose credentials are ``env:`` references
    (``GOVNET_TEST_SSH_PASSWORD``, ``GOVNET_TEST_ENABLE``) that each test sets."""

    sim: BackgroundDevsim
    state: Path
    known_hosts: Path

    @property
    def addresses(self) -> dict[str, str]:
        return {s.name: s.address for s in self.sim.specs}

    def spec(self, name: str) -> DeviceSpec:
        return self.sim.spec(name)

    def device(
        self, name: str, ssh: dict[str, Any] | None = None, *, enable: bool = True, port: int | None = None
    ) -> Device:
        spec = self.sim.spec(name)
        credentials = {"username": spec.username, "password": "env:GOVNET_TEST_SSH_PASSWORD"}
        if enable:
            credentials["enable"] = "env:GOVNET_TEST_ENABLE"
        data: dict[str, Any] = {
            "name": name,
            "platform": spec.platform,
            "host": spec.address,
            "port": spec.port if port is None else port,
            "credentials": credentials,
        }
        if ssh is not None:
            data["ssh"] = ssh
        return Device.model_validate(data)

    def where(self, name: str) -> str:
        """How govnet names the device in its messages: ``NAME (ADDRESS:PORT)``."""
        spec = self.sim.spec(name)
        return f"{name} ({spec.address}:{spec.port})"

    def running(self, name: str) -> str:
        return self.sim.handle.devices[name].running_text()

    def heal(self, name: str) -> None:
        clear_faults(self.state, name)


def loopback_usable(address: str) -> bool:
    """Whether this machine answers ``address`` on lo (Linux answers all of 127/8)."""
    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


@contextmanager
def simulated(specs: Sequence[DeviceSpec]) -> Iterator[SimDevices]:
    """Serve ``specs`` (all with the same ``state_dir``) until the block ends; a loopback address
    this machine cannot bind is a ``need`` (fails in CI, skips saying why elsewhere)."""
    for address in sorted({s.address for s in specs}):
        need(loopback_usable(address), f"cannot bind {address} (Linux answers all of 127/8 on lo)")
    state = specs[0].state_dir
    with BackgroundDevsim(list(specs)) as sim:
        known_hosts = state / "known_hosts"
        write_known_hosts(known_hosts, sim.specs)
        yield SimDevices(sim, state, known_hosts)
