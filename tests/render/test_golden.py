"""Rendered configurations of representative devices, compared with reviewed golden files.

The test never writes: after an intended template change, ``scripts/update-golden`` rewrites the
files (tests/render/golden.py) and the diff is reviewed.
"""

from __future__ import annotations

import pytest

from govnet.inventory.models import Inventory
from tests.render.golden import CASES, CONFIGS, rendered


@pytest.mark.parametrize("ident", CASES)
def test_render_matches_golden(site: Inventory, ident: str) -> None:
    path, text = rendered(site, ident)
    assert path.exists(), f"{path} missing: run scripts/update-golden and review the new file"
    assert text == path.read_text(), f"{path.name} differs; review, then scripts/update-golden if intended"


def test_no_stale_golden_files(site: Inventory) -> None:
    expected = {rendered(site, ident)[0].name for ident in CASES}
    assert {p.name for p in CONFIGS.glob("*.cfg")} == expected
