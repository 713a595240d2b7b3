"""Stock netmiko to a simulated device (govnet.lab.devsim), the way an engineer's script connects:
the platform's own netmiko driver, and the device's host key checked against a known_hosts file
(never the user's own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netmiko import ConnectHandler

from govnet.lab.devsim import DeviceSpec

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
