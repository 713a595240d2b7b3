"""Shards without a lab: rendezvous hashing moves only the new shard's share, and ``--shard``
overrides the config's ``shard:`` (in ``govnet daemon --check`` and ``govnet probe``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.inventory.select import Shard, owner
from govnet.monitor.config import load_config
from tests.helpers import DATA

IDS = [f"unit-{n:05d}" for n in range(10_000)]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 9])
def test_adding_a_shard_moves_only_its_share(count: int) -> None:
    before = {u: owner(u, count) for u in IDS}
    after = {u: owner(u, count + 1) for u in IDS}
    moved = [u for u in IDS if before[u] != after[u]]
    # Every moved unit went to the new shard; none moved between the old ones.
    assert {after[u] for u in moved} == {count + 1}
    share = len(moved) / len(IDS)
    assert abs(share - 1 / (count + 1)) < 0.02, share


@pytest.mark.parametrize("count", [2, 3, 7])
def test_shards_cover_every_unit_once_and_are_balanced(count: int) -> None:
    owners = Counter(owner(u, count) for u in IDS)
    assert set(owners) == set(range(1, count + 1))
    assert sum(owners.values()) == len(IDS)
    for share in owners.values():
        assert abs(share / len(IDS) - 1 / count) < 0.03
    for unit in IDS[:200]:
        assert [Shard(k, count).owns(unit) for k in range(1, count + 1)].count(True) == 1


def config(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "daemon.yml"
    inventory = (DATA / "valid" / "minimal.yml").resolve()
    path.write_text(
        yaml.safe_dump({"inventory": str(inventory), "allowed_networks": ["10.0.0.0/8"], **extra})
    )
    return path


def test_the_flag_overrides_the_config_shard(tmp_path: Path) -> None:
    path = config(tmp_path, shard="1/3")
    assert load_config(path).shard_spec == Shard(1, 3)
    assert load_config(path, Shard(2, 2)).shard_spec == Shard(2, 2)


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_SNMP_COMMUNITY", "test-community")


def test_daemon_check_counts_only_its_shard(govnet: Any, tmp_path: Path) -> None:
    path = str(config(tmp_path, shard="1/1"))
    counts = []
    for k in (1, 2):
        result = govnet("daemon", "--check", "--config", path, "--shard", f"{k}/2")
        assert result.code == 0, result.err
        assert f"(shard {k}/2)" in result.out
        counts.append(int(result.out.split("valid: ")[1].split(" units")[0]))
    assert sum(counts) == 3  # minimal.yml has 3 units


@pytest.mark.parametrize("bad", ["0/2", "3/2", "x", "1/0"])
def test_a_bad_shard_flag_is_a_usage_error(govnet: Any, tmp_path: Path, bad: str) -> None:
    for command in (["daemon", "--check", "--config", str(config(tmp_path))], ["probe"]):
        result = govnet(*command, "--shard", bad)
        assert result.code == 2
        assert result.err.startswith(f"govnet: shard '{bad}'"), result.err
        assert "Traceback" not in result.err
