"""Volatile lines and hidden defaults end to end (issue #14): a plan made from a simulated device
whose running config changes by itself (``volatile-lines``) and which hides what equals its
default (``hides-defaults``), then ``apply`` through the real per-unit procedure, over SSH on
127.0.23.x. Without the normalisation the plan is refused as stale (its recorded hash is not
the raw text's any more) and verify restores every unit whose intent sets a default.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from govnet.compliance.check import compare
from govnet.inventory.loader import load
from govnet.lab.devsim import BackgroundDevsim, DeviceSpec
from govnet.rollout import apply
from govnet.rollout.context import Context
from govnet.rollout.plan import build_plan
from govnet.rollout.restore import restore_commands
from govnet.secrets import SecretResolver
from govnet.state import backups
from tests.helpers import ROOT
from tests.simkit import simulated

PASSWORD = "Vol-pw-1618-quux"
ENABLE = "Vol-en-1414-frob"
PLATFORMS = {"cisco_ios": "127.0.23.1", "huawei_vrp": "127.0.23.2", "h3c_comware": "127.0.23.3"}
UNIT = """\
  - id: u-{short}
    name: 测试{short}
    slug: {short}
    kind: bureau
    parent: core-city
    segments:
      intranet: {{address: 10.111.{n}.1/24, vlan: {vlan}}}
    devices:
      - {{name: {name}, platform: {platform}, host: {address}, port: {port}}}
    registration: {{number: 备2006-00{n}, date: 2006-02-01}}
    agreement: {{signed: 2006-03-01, signatory: 王伟}}
"""
INVENTORY = """\
site: {{name: 测试市, slug: testcity, operator: 测试市信息化办公室, management: [127.0.0.0/8]}}
segments:
  intranet: {{description: 电子政务内网, supernets: [10.111.0.0/16], vrf: INTRANET, vlans: {{first: 101, last: 999}}}}
defaults:
  device:
    credentials: {{username: govnet, password: env:GOVNET_SSH_PASSWORD, enable: env:GOVNET_ENABLE}}
    snmp: {{version: v2c, community: env:GOVNET_SNMP_COMMUNITY}}
nodes:
  - id: core-city
    name: 核心节点
    slug: city-core
    kind: core
    segments:
      intranet: {{address: 10.111.250.1/32}}
    devices:
      - {{name: CORE-01, platform: huawei_vrp, host: 127.0.23.99}}
units:
{units}"""


def short(platform: str) -> str:
    return platform.split("_", maxsplit=1)[0]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BackgroundDevsim, Path]]:
    state = tmp_path_factory.mktemp("volatile")
    specs = [
        DeviceSpec(
            name=f"{short(platform).upper()}-1",
            platform=platform,
            address=address,
            port=0,
            username="govnet",
            password=PASSWORD,
            enable_secret=ENABLE,
            state_dir=state,
            quirks=("volatile-lines", "hides-defaults"),
        )
        for platform, address in PLATFORMS.items()
    ]
    with simulated(specs) as lab:
        yield lab.sim, state


@pytest.fixture
def ctx(sim: tuple[BackgroundDevsim, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    devsim, state = sim
    monkeypatch.setenv("GOVNET_SSH_PASSWORD", PASSWORD)
    monkeypatch.setenv("GOVNET_ENABLE", ENABLE)
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "Vol-snmp-2236")
    units = "".join(
        UNIT.format(
            short=short(s.platform),
            n=n,
            vlan=100 + n,
            name=s.name,
            platform=s.platform,
            address=s.address,
            port=s.port,
        )
        for n, s in enumerate(devsim.specs, start=1)
    )
    path = tmp_path / "inventory.yml"
    path.write_text(INVENTORY.format(units=units), encoding="utf-8")
    inventory = load(path).inventory
    return Context(
        path, inventory, ROOT / "configs", tmp_path / "state", state / "known_hosts", SecretResolver()
    )


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_a_plan_of_a_device_whose_text_changes_by_itself_applies_and_verifies(
    ctx: Context, platform: str
) -> None:
    unit = f"u-{short(platform)}"
    element = ctx.element(unit)
    device = element.devices[0]
    with ctx.session(device) as session:
        first, second = session.running_config(), session.running_config()
    if platform != "h3c_comware":  # the quirk prints nothing that changes on Comware
        assert first != second, "the simulator must show text that changes by itself"

    plan = build_plan(ctx, "intranet", ids=[unit])
    (planned,) = plan.units
    assert planned.status == "change", planned.reason
    if platform in ("cisco_ios", "huawei_vrp"):  # without the normalisation: stale
        with ctx.session(device) as session:
            assert backups.text_hash(session.running_config()) != planned.running_hash

    options = apply.Options(verify_reachability=False, restore_wait=1.0)
    report = apply.start(ctx, plan, "plan.json", "0" * 64, options)
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.reason) == ("changed", "")

    with ctx.session(device) as session:
        shown = session.running_config()
    intended = ctx.render(element, device)
    drifts, _, missing, extra = compare(device.platform, shown, intended, ("intranet",))
    assert all(d.compliant for d in drifts), (missing, extra)
    if platform != "cisco_ios":  # the intent sets telnet's default; the device hides it
        assert "undo telnet server enable" in intended.text
        assert not {"undo telnet server enable", "telnet server enable"} & {
            x.strip() for x in shown.split("\n")
        }
    again = build_plan(ctx, "intranet", ids=[unit])
    assert [u.status for u in again.units] == ["nochange"], again.units[0].commands
    # A restore to what the device showed a moment ago pushes nothing (no ``undo 2024-…``).
    with ctx.session(device) as session:
        assert restore_commands(device.platform, session.running_config(), shown) == []
