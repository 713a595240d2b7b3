"""Each kind of broken template gives one precise ``FILE:LINE: message`` line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from govnet.errors import TemplateError
from govnet.inventory.models import Inventory
from govnet.render import render_device
from tests.helpers import DATA

FIXTURES = DATA / "invalid-templates"
EXPECTED: dict[str, str] = yaml.safe_load((FIXTURES / "expected.yml").read_text())


def test_every_fixture_has_an_expectation() -> None:
    cases = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert cases == set(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_template_is_one_precise_error(minimal: Inventory, case: str) -> None:
    unit = minimal.unit("sz-caizheng")
    assert unit is not None
    bare = unit.model_copy(update={"segments": {}})
    folder = FIXTURES / case
    with pytest.raises(TemplateError) as caught:
        render_device(minimal, bare, bare.device, folder)
    lines = list(caught.value.lines())
    assert len(lines) == 1
    assert lines[0] == f"{folder}/{EXPECTED[case]}"
    assert "hunter2" not in lines[0]  # the error never repeats a secret


def test_relative_templates_path_gives_relative_file_names(
    minimal: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    unit = minimal.unit("sz-caizheng")
    assert unit is not None
    bare = unit.model_copy(update={"segments": {}})
    with pytest.raises(TemplateError, match=r"^undefined-variable/huawei_vrp/baseline\.j2:2: "):
        render_device(minimal, bare, bare.device, Path("undefined-variable"))
