"""Path localisation: TTL-limited echoes crafted with scapy, against loopback and the lab twin.

The lab (6 units in 198.18.128.0/17) is built with the CLI for this module and always removed.
From the test's own namespace the path to a unit is: prober (host link) → core → aggregation
node → unit. A real ``link-down`` on the aggregation node must end the path at the core, one on
the unit at its aggregation node, checked against the lab's `LabTopology`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from govnet.errors import ConfigError
from govnet.lab.topology import LabTopology
from govnet.lab.twin import load_twin
from govnet.probes.base import Target
from govnet.probes.path.probe import Hop, PathProbe, PathResult, PathSettings, _conclude
from tests import labkit
from tests.helpers import need
from tests.probes.probekit import NETWORK, module_lab


def path_probe(settings: dict[str, Any]) -> PathProbe:
    return PathProbe(PathSettings.parse(settings))


def locate(probe: PathProbe, destination: str, vantage: str | None = None, **kwargs: Any) -> PathResult:
    return asyncio.run(probe.locate(destination, vantage, **kwargs))


# --- pure: where a path ends ---------------------------------------------------------------------


def test_the_path_ends_at_the_first_unreachable_or_the_last_time_exceeded() -> None:
    te = "TTL exceeded in transit"
    hops = [Hop(1, "10.0.0.1", 0.001, te), Hop(2, None, None, ""), Hop(3, "10.0.1.1", 0.002, te)]
    ends = [
        *hops,
        Hop(4, "10.0.2.1", 0.003, "host unreachable", final=True),
        Hop(5, "10.0.2.1", 0.003, "host unreachable", final=True),
    ]
    broken = _conclude("10.9.9.9", "10.0.0.100", None, ends, "", 0.05)
    assert (broken.reached, broken.last_hop, broken.last_hop_number) == (False, "10.0.2.1", 4)
    assert broken.detail == "path ends at hop 4 (10.0.2.1): host unreachable" and len(broken.hops) == 4
    silent = _conclude("10.9.9.9", "10.0.0.100", None, hops, "", 2.0)
    assert (silent.last_hop, silent.last_hop_number, silent.detail) == (
        "10.0.1.1",
        3,
        "path ends at hop 3 (10.0.1.1)",
    )
    reached = _conclude(
        "10.9.9.9", None, "noc", [*hops, Hop(4, "10.9.9.9", 0.004, "echo reply", final=True)], "", 0.1
    )
    assert (reached.reached, reached.last_hop_number, reached.detail, reached.vantage) == (
        True,
        4,
        "reached in 4 hop(s)",
        "noc",
    )
    nothing = _conclude("10.9.9.9", None, None, [], "", 2.0)
    assert (nothing.reached, nothing.last_hop, nothing.detail) == (False, None, "no hop answered")


def test_settings_are_strict_and_refusals_send_nothing() -> None:
    assert (PathSettings().max_hops, PathSettings().timeout) == (8, 0.5)  # one set of defaults
    for bad, message in (
        ({"max_hop": 3}, "unknown path setting.*max_hop"),
        ({"max_hops": 0}, "max_hops"),
        ({"spacing": 2}, "spacing"),
        ({"vantages": {"v": {"netns": "x", "via": "y"}}}, r"vantages\.v\.via: unknown"),
    ):
        with pytest.raises(ConfigError, match=message):
            path_probe(bad)
    vantage = PathSettings.parse({"vantages": {"v": {"netns": "x"}}}).vantages["v"]  # type: ignore[index]
    assert (vantage.source, vantage.netns) == (None, "x")  # a path vantage may leave the source to the kernel
    probe = PathProbe()
    refused = locate(probe, "10.1.2.3")
    assert (refused.detail, refused.hops, refused.seconds) == ("address not allowed", (), 0.0)
    assert locate(probe, "127.0.0.1", "nope").detail == "unknown vantage 'nope'"


@pytest.mark.lab
def test_loopback_is_reached_in_one_hop() -> None:
    need(os.geteuid() == 0, "needs root (raw sockets for scapy)")
    probe = path_probe({"max_hops": 4, "timeout": 10.0})
    found = locate(probe, "127.0.0.9")
    assert (found.reached, found.last_hop, found.last_hop_number, found.detail) == (
        True,
        "127.0.0.9",
        1,
        "reached in 1 hop(s)",
    )
    assert found.source == "127.0.0.1" and found.seconds < 10.0  # ended by the answer, not the timeout
    other = locate(probe, "127.0.0.9", source="127.0.0.3")
    assert (other.reached, other.source) == (True, "127.0.0.3")
    (result,) = asyncio.run(probe.run([Target("u", "intranet", "127.0.0.9")], 2.0))
    assert (result.success, result.probe, result.values["last_hop_number"]) == (True, "path", 1.0)


# --- the lab twin ----------------------------------------------------------------------------------


@dataclass
class Lab(labkit.Lab):
    topology: LabTopology
    record: dict[str, Any]

    def link_address(self, parent: str, child: str, vrf: str = "intranet") -> str:
        """``parent``'s address on its ``vrf`` link toward ``child`` (from `LabTopology.links`)."""
        link = next(k for k in self.topology.links if (k.a, k.b, k.vrf) == (parent, child, vrf))
        return str(link.a_addr.ip)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with module_lab(tmp_path_factory, "path", "p") as base:
        twin = load_twin(base.name, base.state)
        yield Lab(base.name, base.state, base.info, twin.topology, twin.record)


def test_lab_paths_end_where_the_link_broke(lab: Lab) -> None:
    topology = lab.topology
    unit = next(u for u in lab.record["units"] if "intranet" in u["segments"])
    agg = topology.node(unit["agg_node"])
    probe = path_probe(
        {
            "allowed_networks": [NETWORK],
            "max_hops": 8,
            "timeout": 1.0,
            "vantages": {
                "party-noc": {
                    "source": str(topology.prober_address("party")),
                    "netns": topology.netns("probe"),
                }
            },
        }
    )
    assert isinstance(probe, PathProbe)
    prober_hop = str(topology.host_link.prober_addr.ip)
    core_hop = lab.link_address("core", topology.prober)  # the core answers from its link toward us

    healthy = locate(probe, unit["host"])
    assert healthy.reached and healthy.last_hop == unit["host"]
    assert [h.address for h in healthy.hops] == [prober_hop, core_hop, str(agg.mgmt), unit["host"]]

    lab.cli("fault", unit["agg"], "link-down")
    try:
        cut_agg = locate(probe, unit["host"])
    finally:
        lab.cli("heal", unit["agg"])
    assert (cut_agg.reached, cut_agg.last_hop, cut_agg.last_hop_number) == (False, core_hop, 2)
    assert cut_agg.detail == f"path ends at hop 2 ({core_hop}): network unreachable"

    lab.cli("fault", unit["id"], "link-down")
    try:
        cut_unit = locate(probe, unit["host"])
    finally:
        lab.cli("heal", unit["id"])
    assert (cut_unit.reached, cut_unit.last_hop, cut_unit.last_hop_number) == (False, str(agg.mgmt), 3)
    assert cut_unit.detail == f"path ends at hop 3 ({agg.mgmt}): host unreachable"

    party_unit = topology.node(next(u["node"] for u in lab.record["units"] if "party" in u["segments"]))
    party = locate(probe, str(party_unit.address("party")), "party-noc")  # from inside the prober's namespace
    assert party.reached and party.source == str(topology.prober_address("party"))
    assert [h.address for h in party.hops] == [
        lab.link_address("core", topology.prober, "party"),
        str(topology.node(str(party_unit.parent)).address("party")),
        str(party_unit.address("party")),
    ]
    for name, found in (
        ("healthy", healthy),
        ("agg link-down", cut_agg),
        ("unit link-down", cut_unit),
        ("party vantage", party),
    ):
        print(f"path localisation, {name}: {found.seconds * 1000:.0f} ms, {found.detail}")
    assert max(f.seconds for f in (cut_agg, cut_unit, party)) < 0.5
