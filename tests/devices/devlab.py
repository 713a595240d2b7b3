"""Simulated devices over real SSH on 127.0.21.x for the session tests (fixtures in conftest.py).

One simulator per test module (``tests.simkit.simulated``), and inventory ``Device`` records
whose credentials are ``env:`` references set per test. Each platform has a clean device and a
fault device; fault tests heal theirs whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from govnet.devices import Timeouts
from govnet.lab.devsim import DeviceSpec
from govnet.secrets import SecretResolver
from tests.simkit import SimDevices, simulated

PASSWORD = "Sess-pw-3141-xyzzy"
ENABLE = "Sess-en-2718-plugh"
PLATFORMS = ("huawei_vrp", "h3c_comware", "cisco_ios")
SHORT = {"huawei_vrp": "hw", "h3c_comware": "h3c", "cisco_ios": "ios"}
# Short timeouts: a fault must fail a test in well under a second, not after netmiko's 20 s.
FAST = Timeouts(connect=3.0, command=2.0, save=5.0)

Lab = SimDevices


def spec(name: str, platform: str, address: str, state: Path, **extra: object) -> DeviceSpec:
    """A device of the test lab: user ``netops`` with this module's password and enable secret."""
    return DeviceSpec(
        name=name,
        platform=platform,
        address=address,
        port=0,
        username="netops",
        password=PASSWORD,
        enable_secret=ENABLE,
        state_dir=state,
        **extra,  # type: ignore[arg-type]
    )


def serve_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    state = tmp_path_factory.mktemp("devsim")
    specs = [
        spec(
            f"{SHORT[platform]}{role}",
            platform,
            f"127.0.21.{10 * index + offset + 1}",
            state,
            banner="Authorised access only",
        )
        for index, platform in enumerate(PLATFORMS)
        for offset, role in enumerate(("-1", "-f"))
    ]
    with simulated(specs) as lab:
        yield lab


def lab_secrets(monkeypatch: pytest.MonkeyPatch) -> SecretResolver:
    """The lab's credentials in the environment, and a fresh resolver for them."""
    monkeypatch.setenv("GOVNET_TEST_SSH_PASSWORD", PASSWORD)
    monkeypatch.setenv("GOVNET_TEST_ENABLE", ENABLE)
    return SecretResolver()
