"""The shipped Luohe inventory: valid, the right counts, a golden summary, usable listings."""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from typing import Any

from govnet.inventory.loader import load
from govnet.inventory.select import Shard, owner
from tests.helpers import DATA, ROOT

SITE = ROOT / "inventory"


def test_site_validates_with_paperwork_warnings_only(govnet: Any) -> None:
    result = govnet("inventory", "validate")
    assert result.code == 0
    assert "146 units (intranet 121, party 134, extranet 70)" in result.out
    warnings = result.err.strip().splitlines()
    assert len(warnings) == 8
    assert all(
        w.startswith("warning: inventory/units/") and "rollouts to this unit will be refused" in w
        for w in warnings
    )


def test_strict_validation_fails_on_warnings(govnet: Any) -> None:
    result = govnet("inventory", "validate", "--strict")
    assert result.code == 1
    assert "8 warning(s) and --strict given" in result.err


def test_stats_match_the_golden_summary(govnet: Any) -> None:
    result = govnet("inventory", "stats", "--json")
    assert result.code == 0
    stats = result.json()
    assert stats["segments"]["intranet"]["units"] == 121
    assert stats["segments"]["party"]["units"] == 134
    golden = DATA / "golden" / "luohe-stats.json"  # written by scripts/update-golden only
    assert stats == json.loads(golden.read_text(encoding="utf-8")), (
        "differs: scripts/update-golden if intended"
    )


def test_party_and_intranet_overlap_on_shared_devices_but_not_in_vrf() -> None:
    inv = load(SITE).inventory
    both = [u for u in inv.units if {"intranet", "party"} <= set(u.segments)]
    assert 90 <= len(both) <= 121
    assert inv.segments["party"].vrf != inv.segments["intranet"].vrf
    for unit in both:  # one device carries both, in different VRFs
        assert unit.devices_on("party") == unit.devices_on("intranet")
    townships = [u for u in inv.units if u.kind == "township"]
    assert townships and all(set(u.segments) == {"party"} for u in townships)


def test_topology_is_a_tree_rooted_at_the_city_core() -> None:
    inv = load(SITE).inventory
    for unit in inv.units:
        chain = inv.parent_chain(unit.id)
        assert chain[-1].id == "core-city"
        assert chain[0].kind == "aggregation"
    assert {n.id for n in inv.nodes if n.kind == "aggregation"} >= {
        "agg-yuanhui",
        "agg-yancheng",
        "agg-zhaoling",
        "agg-wuyang",
        "agg-linying",
    }


def test_uplink_and_info_sharing_systems() -> None:
    inv = load(SITE).inventory
    assert [u.id for u in inv.uplinks] == ["province-party"]
    assert inv.uplinks[0].segment == "party"
    agencies = {s.agency for s in inv.systems}
    assert agencies == {"sz-gongshang", "sz-guoshui", "sz-dishui", "sz-zhijian"}


def test_list_json_carries_the_stable_fields(govnet: Any) -> None:
    result = govnet("inventory", "list", "--json")
    assert result.code == 0
    rows = result.json()
    assert len(rows) == 146
    for row in rows:
        assert {"id", "name", "segments", "host", "platform"} <= set(row)
        IPv4Address(row["host"])
    party = govnet("inventory", "list", "--json", "--segment", "party").json()
    assert len(party) == 134
    wave1 = govnet("inventory", "list", "--json", "--wave", "1").json()
    assert wave1 and all(r["wave"] == 1 for r in wave1)
    h3c = govnet("inventory", "list", "--json", "--group", "h3c-access").json()
    assert h3c and all(r["platform"] == "h3c_comware" for r in h3c)


def test_shards_cover_every_unit_exactly_once(govnet: Any) -> None:
    everyone = {r["id"] for r in govnet("inventory", "list", "--json").json()}
    for count in (2, 3):
        seen: list[str] = []
        for index in range(1, count + 1):
            seen += [
                r["id"] for r in govnet("inventory", "list", "--json", "--shard", f"{index}/{count}").json()
            ]
        assert sorted(seen) == sorted(everyone)


def test_adding_a_shard_moves_only_its_share() -> None:
    ids = [f"unit-{i}" for i in range(3000)]
    moved = sum(1 for i in ids if owner(i, 4) != owner(i, 5))
    assert moved == sum(1 for i in ids if owner(i, 5) == 5)  # only units the new shard wins move
    assert 0.15 < moved / len(ids) < 0.25
    assert Shard.parse("5/5").owns(next(i for i in ids if owner(i, 5) == 5))


def test_show_json_resolves_groups_and_defaults(govnet: Any) -> None:
    result = govnet("inventory", "show", "sz-gongan", "--json")
    assert result.code == 0
    data = result.json()
    assert data["path"] == ["agg-shizhi-a", "core-city"]
    device = data["devices"][0]
    assert device["platform"] == "cisco_ios"  # from group cisco-access
    assert device["credentials"]["password"] == "env:GOVNET_SSH_PASSWORD"  # from defaults
    assert device["snmp"]["version"] == "v3"
    text = govnet("inventory", "show", "gongan")  # by slug
    assert text.code == 0 and "漯河市公安局" in text.out
