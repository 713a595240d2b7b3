"""Model and loader behaviour: inheritance order, round trips, secrets, fuzzing."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.errors import InventoryError
from govnet.inventory.loader import load
from govnet.inventory.models import Inventory
from govnet.inventory.yamlsrc import load_yaml
from tests.helpers import DATA, ROOT

MINIMAL = DATA / "valid" / "minimal.yml"


def dump_model(inv: Inventory, path: Path) -> None:
    data = inv.model_dump(mode="json", exclude={"group_names"})
    data["groups"] = {name: {} for name in inv.group_names}  # memberships stay; values are already folded in
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("source", [MINIMAL, ROOT / "inventory"])
def test_round_trip_through_yaml_is_lossless(source: Path, tmp_path: Path) -> None:
    """A resolved inventory written out flat (no groups) loads back to the same model."""
    first = load(source).inventory
    dump_model(first, tmp_path / "flat.yml")
    second = load(tmp_path / "flat.yml").inventory
    assert second.model_dump(exclude={"group_names"}) == first.model_dump(exclude={"group_names"})


def test_inheritance_order_unit_over_groups_over_defaults(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace(
        "groups:\n  huawei:\n",
        "groups:\n  cisco:\n    device: {platform: cisco_ios, port: 2222}\n  huawei:\n",
    )
    text = text.replace(
        "    groups: [huawei]\n    parent: core-city\n    segments:\n      intranet: {address: 10.111.1.1/24",
        "    groups: [cisco, huawei]\n    parent: core-city\n    segments:\n      intranet: {address: 10.111.1.1/24",
    )
    text = text.replace(
        "      - {name: FGW-AS01, host: 10.40.10.11}", "      - {name: FGW-AS01, host: 10.40.10.11, port: 22}"
    )
    (tmp_path / "inv.yml").write_text(text, encoding="utf-8")
    unit = load(tmp_path / "inv.yml").inventory.unit("sz-fagaiwei")
    assert unit is not None
    assert unit.device.platform == "cisco_ios"  # first group wins over the second
    assert unit.device.port == 22  # the unit's own value wins over its groups
    assert unit.device.uplink == "GigabitEthernet0/0/24"  # keys the first group lacks come from the next
    assert unit.device.credentials.username == "govnet"  # defaults fill the rest


def test_folder_and_single_file_give_the_same_site(tmp_path: Path) -> None:
    folder = load(ROOT / "inventory").inventory
    merged: dict[str, object] = {}
    for file in sorted((ROOT / "inventory").rglob("*.yml")):
        for key, value in yaml.safe_load(file.read_text(encoding="utf-8")).items():
            if isinstance(value, list):
                merged.setdefault(key, [])
                merged[key] += value  # type: ignore[operator]
            else:
                merged[key] = value
    (tmp_path / "one.yml").write_text(yaml.safe_dump(merged, allow_unicode=True), encoding="utf-8")
    assert load(tmp_path / "one.yml").inventory == folder


def test_inherited_error_points_at_the_group_line(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace(
        "device: {platform: huawei_vrp,", "device: {platform: vrp8,"
    )
    (tmp_path / "inv.yml").write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError) as err:
        load(tmp_path / "inv.yml")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "vrp8" in row)
    assert {(p.file, p.line) for p in err.value.problems} == {(str(tmp_path / "inv.yml"), line)}


def test_secret_references_are_accepted_and_never_resolved_by_loading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOVNET_SSH_PASSWORD", raising=False)
    inv = load(MINIMAL).inventory
    assert inv.units[0].device.credentials.password == "env:GOVNET_SSH_PASSWORD"


YAML_TOKENS = st.sampled_from(
    [
        "site:",
        "units:",
        "- ",
        "  ",
        "\n",
        "id: a",
        "name: 测",
        "&a",
        "*a",
        "<<:",
        "[",
        "]",
        "{",
        "}",
        ":",
        "'",
        '"',
        "10.0.0.1",
        "---",
        "\t",
        "#",
        "!!python/object:os.system",
        "? ",
        "2006-02-30",
        "\x00",
        "\ufeff",
        "|",
        ">",
    ]
)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), st.lists(YAML_TOKENS, max_size=60).map("".join)))
def test_fuzzed_files_end_in_a_model_or_an_inventory_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "inv.yml"
    path.write_text(
        text, encoding="utf-8", errors="surrogatepass"
    ) if "\ud800" not in text else path.write_bytes(b"\xff")
    try:
        load(path)
    except InventoryError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@settings(max_examples=200, deadline=2000)
@given(st.text(max_size=300))
def test_fuzzed_text_in_a_valid_site_never_escapes(
    tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    """Arbitrary text as a unit's name, slug or address: a model or an error, never a crash."""
    base = MINIMAL.read_text(encoding="utf-8")
    for old in ("name: 测试市财政局", "slug: caizheng", "address: 10.111.2.1/24"):
        key = old.split(":")[0]
        text = base.replace(old, f"{key}: {yaml.safe_dump(value).splitlines()[0] if value.strip() else 'x'}")
        path = tmp_path_factory.mktemp("fuzz") / "inv.yml"
        path.write_text(text, encoding="utf-8", errors="replace")
        with contextlib.suppress(InventoryError):
            load(path)


def test_alias_bomb_is_refused_fast() -> None:
    text = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(InventoryError, match="anchors and aliases"):
        load_yaml(text, "bomb.yml")
