"""Rendered configurations pushed with real netmiko into simulated devices on 127.0.0.1.

One device per platform, configured from the site's representative units (the text only: the
simulators listen on loopback, nothing of the site is contacted). Every command must be accepted
and, read back, the running configuration must need no further change. The stock netmiko
``huawei`` driver waits for ~2 s of silence per ``check_config_mode`` (FIELD-NOTES): this module
takes some seconds for that alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.inventory.models import Inventory
from govnet.lab.devsim import BackgroundDevsim, DeviceSpec
from govnet.render import render_device
from govnet.render.secrets import substitute
from govnet.rollout.remediate import remediate
from tests.helpers import ROOT
from tests.render.devsim_apply import SECRETS, resolve
from tests.simkit import netmiko_to, simulated

UNITS = {"huawei_vrp": "sz-shiwei-ban", "h3c_comware": "wy-wuquan", "cisco_ios": "sz-guoshui"}
SHOW_RUN = {
    "huawei_vrp": "display current-configuration",
    "h3c_comware": "display current-configuration",
    "cisco_ios": "show running-config",
}
REJECTED = re.compile(r"^\s*(?:Error:|% (?:Unrecognized|Invalid|Incomplete|Ambiguous))", re.MULTILINE)
LOGIN_PASSWORD = "Lab-login-9d1e"


@pytest.fixture(scope="module")
def lab(site: Inventory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BackgroundDevsim, Path]]:
    state = tmp_path_factory.mktemp("push")
    specs = []
    for platform, ident in UNITS.items():
        element = site.element(ident)
        assert element is not None
        specs.append(
            DeviceSpec(
                name=element.device.name,
                platform=platform,
                address="127.0.0.1",
                port=0,
                username="govnet",
                password=LOGIN_PASSWORD,
                enable_secret="Lab-enable-2",
                state_dir=state,
            )
        )
    with simulated(specs) as lab:
        yield lab.sim, lab.known_hosts


def _connect(sim: BackgroundDevsim, known_hosts: Path, name: str) -> Any:
    spec = sim.spec(name)
    conn = netmiko_to(spec, known_hosts)
    if spec.platform == "cisco_ios":
        conn.enable()
    return conn


@pytest.mark.parametrize("platform", sorted(UNITS))
def test_push_rendered_config_with_netmiko(
    site: Inventory, lab: tuple[BackgroundDevsim, Path], platform: str
) -> None:
    sim, known_hosts = lab
    element = site.element(UNITS[platform])
    assert element is not None
    intended = render_device(site, element, element.device, ROOT / "configs").text
    conn = _connect(sim, known_hosts, element.device.name)
    try:
        before = conn.send_command(SHOW_RUN[platform])
        plan = remediate(platform, before, intended)
        assert plan.commands and not plan.empty
        output = conn.send_config_set(substitute(plan.commands, resolve))
        assert not REJECTED.search(output), output
        conn.save_config()
        after = conn.send_command(SHOW_RUN[platform])
    finally:
        conn.disconnect()
    check = remediate(platform, after, intended)
    assert check.empty, (check.commands, check.missing, check.extra)
    device = sim.handle.devices[element.device.name]
    stored = [device.startup_text() or "", device.running_path.read_text()]
    for value in SECRETS.values():  # shown, saved and written out in cipher form only
        assert all(value not in text for text in [after, *stored])
