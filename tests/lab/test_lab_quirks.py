"""`govnet lab up` gives a few units real-device quirks by default (``site.quirk_units``), and
govnet's rollout gets through every one of them.

The choice is pure and checked on the shipped site; the end-to-end test brings up a 24-unit lab
(198.18.128.0/17) and plans and applies the party segment to the quirky units with the real CLI.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.inventory.loader import load
from govnet.lab.devsim.quirks import QUIRKS, check_quirks
from govnet.lab.site import REFUSING_QUIRKS, choose_units, lab_units, legacy_ssh_units, quirk_units
from tests.helpers import ROOT
from tests.labkit import govnet, lab_up

NETWORK = "198.18.128.0/17"


@pytest.mark.parametrize("count", [3, 24, 255])
def test_one_unit_per_platform_shows_every_quirk_but_the_refusing_ones(count: int) -> None:
    inv = load(ROOT / "inventory").inventory
    units = lab_units(inv, choose_units(inv, count))
    chosen = quirk_units(units)
    assert chosen == quirk_units(units)  # deterministic
    firsts: dict[str, str] = {}
    for u in units:
        firsts.setdefault(u.unit.device.platform, u.id)
    platforms = {u.id: u.unit.device.platform for u in units}
    several = {p for p in firsts.values() if sum(1 for q in platforms.values() if q == platforms[p]) > 1}
    assert sorted(platforms[u] for u in chosen) == sorted(platforms[u] for u in several)
    for unit, names in chosen.items():
        assert unit not in firsts.values()  # a platform's first unit stays a plain device
        assert check_quirks(names, where=unit) == tuple(q for q in QUIRKS if q not in REFUSING_QUIRKS)
    if count == 255:
        assert len(chosen) == 3 and len(set(chosen) - legacy_ssh_units(units)) >= 2


def test_the_refusing_quirks_are_registered_names() -> None:
    """Renaming one in the registry must rename it here too, or a default lab would refuse it."""
    assert set(QUIRKS) >= REFUSING_QUIRKS


@pytest.fixture(scope="module")
def quirky_lab(tmp_path_factory: pytest.TempPathFactory, kit: Any) -> Iterator[tuple[Path, dict[str, Any]]]:
    kit.require_lab(("ip", "snmpd"))
    state = tmp_path_factory.mktemp("lab-quirks")
    with lab_up(state, "tq" + uuid.uuid4().hex[:5], NETWORK) as info:
        yield state, info


def test_a_rollout_gets_through_the_quirky_units(quirky_lab: tuple[Path, dict[str, Any]]) -> None:
    state, info = quirky_lab
    quirky = {u["id"]: u for u in info["units"] if u["quirks"]}
    assert {u["platform"] for u in quirky.values()} == {"huawei_vrp", "h3c_comware"}  # one IOS unit in 24
    env = {"GOVNET_STATE": str(state / "govnet")}
    common = ["--inventory", info["inventory"], "--known-hosts", info["known_hosts"]]
    units = [arg for unit in quirky for arg in ("--unit", unit)]
    plan = state / "quirky.plan.json"
    govnet(state, "rollout", "plan", "--segment", "party", *common, *units, "--out", str(plan), env=env)
    planned = json.loads(plan.read_text())["units"]
    assert {u["id"] for u in planned if u["status"] == "change"} == set(quirky)
    applied = govnet(state, "rollout", "apply", str(plan), *common, "--yes", "--json", env=env)
    results = {u["id"]: (u["result"], u["reason"]) for u in json.loads(applied.stdout)["units"]}
    assert results == {unit: ("changed", "") for unit in quirky}
    again = govnet(state, "rollout", "plan", "--segment", "party", *common, *units, "--json", env=env)
    assert all(u["status"] != "change" for u in json.loads(again.stdout)["units"])  # volatile lines ignored
