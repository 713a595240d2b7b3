"""Rendered configurations of representative devices, compared with reviewed golden files.

Regenerate after an intended template change, then review the diff:
``GOVNET_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render``.
"""

from __future__ import annotations

import os

import pytest

from govnet.inventory.models import Inventory
from govnet.render import render_device
from tests.helpers import DATA, ROOT

GOLDEN = DATA / "golden" / "configs"
CASES = [
    "sz-shiwei-ban",  # Huawei VRP, intranet + party + extranet (wave 1)
    "sz-guoshui",  # Cisco IOS, all three segments
    "sz-gongan",  # Cisco IOS, intranet + party
    "wy-wuquan",  # H3C Comware township, party only
    "ly-taichen",  # H3C Comware township without a signed agreement on file
    "core-city",  # the core node, with the provincial party uplink
    "agg-wuyang",  # an H3C aggregation node
    "agg-shizhi-a",  # a Huawei aggregation node
]


@pytest.mark.parametrize("ident", CASES)
def test_render_matches_golden(site: Inventory, ident: str) -> None:
    element = site.element(ident)
    assert element is not None
    device = element.device
    text = render_device(site, element, device, ROOT / "configs").text
    path = GOLDEN / f"{ident}__{device.name}.cfg"
    if os.environ.get("GOVNET_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} missing: run GOVNET_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render"
    assert text == path.read_text(), f"{path.name} differs; review, then regenerate if intended"


def test_no_stale_golden_files(site: Inventory) -> None:
    expected = set()
    for ident in CASES:
        element = site.element(ident)
        assert element is not None
        expected.add(f"{ident}__{element.device.name}.cfg")
    assert {p.name for p in GOLDEN.glob("*.cfg")} == expected
