"""The isolation probe: the matrix from the inventory, negative checks, and a real leak in the lab twin.

The lab (6 units in 198.18.128.0/17) is built with the CLI for this module and always removed.
Its party vantage is the prober namespace with its party address (routed into the party VRF by a
policy rule); its intranet vantage is an intranet-only unit's own namespace and address. A real
``isolation-leak`` (a veth between a unit's party and global namespaces, routes up both trees)
must show as BREACH in both directions, then heal.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from govnet.errors import ConfigError
from govnet.inventory.loader import load
from govnet.lab.twin import load_twin
from govnet.osutil.netns import in_netns
from govnet.probes.base import ProbeResult, Target
from govnet.probes.common import named
from govnet.probes.icmp.probe import IcmpProbe, IcmpSettings
from govnet.probes.isolation.probe import (
    MATRIX,
    IsolationProbe,
    IsolationSettings,
    Vantage,
    isolation_targets,
)
from govnet.probes.registry import default_kinds
from tests.helpers import ROOT, need
from tests.labkit import Lab
from tests.probes.probekit import NETWORK, module_lab

PROFILE = ROOT / "probes" / "isolation.yml"


def isolation_probe(settings: dict[str, Any]) -> IsolationProbe:
    """The probe as the daemon builds it: strict settings, every vantage's socket opened in its namespace."""
    return IsolationProbe(IsolationSettings.parse(settings))


def raw_sockets() -> None:
    need(os.geteuid() == 0, "needs root (raw ICMP sockets, network namespaces)")


def run(probe: IsolationProbe | IcmpProbe, targets: list[Target]) -> list[ProbeResult]:
    return asyncio.run(probe.run(targets, 5.0))


# --- the matrix, from the shipped Luohe inventory (pure) ----------------------------------------


@pytest.fixture(scope="module")
def luohe() -> Any:
    return load(ROOT / "inventory").inventory


def test_matrix_from_the_party_vantage_covers_every_intranet_and_management_address(luohe: Any) -> None:
    targets = isolation_targets(luohe, named({"party-noc": Vantage(source="10.112.250.200")}))
    by_kind = {
        k: [t for t in targets if t.segment == k] for k in ("intranet", "extranet", "management", "party")
    }
    on_intranet = [u for u in luohe.units if "intranet" in u.segments]
    assert [t.address for t in by_kind["intranet"]] == [
        str(u.segments["intranet"].address.ip) for u in on_intranet
    ]
    dual = next(u for u in luohe.units if {"intranet", "party"} <= set(u.segments))
    assert str(dual.segments["intranet"].address.ip) in {t.address for t in by_kind["intranet"]}
    assert len(by_kind["extranet"]) == sum("extranet" in u.segments for u in luohe.units) == 70
    assert {t.address for t in by_kind["management"]} == {str(d.host) for u in luohe.units for d in u.devices}
    assert by_kind["party"] == []
    assert len(targets) == 121 + 70 + 146 == len({t.address for t in targets})
    assert all(t.source == "10.112.250.200" and t.params == {"vantage": "party-noc"} for t in targets)


def test_matrix_from_an_intranet_vantage_covers_every_party_address(luohe: Any) -> None:
    targets = isolation_targets(luohe, named({"noc": Vantage(source="10.111.250.200")}))
    party = [str(u.segments["party"].address.ip) for u in luohe.units if "party" in u.segments]
    assert [t.address for t in targets if t.segment == "party"] == party and len(party) == 134
    assert {t.segment for t in targets} == {"party", "extranet"}  # management is in-band here
    only_party = next(u for u in luohe.units if set(u.segments) == {"party"})
    assert [t.segment for t in targets if t.unit == only_party.id] == ["party"]


def test_vantage_segment_is_inferred_or_must_be_given(luohe: Any) -> None:
    assert (
        isolation_targets(luohe, named({"m": Vantage(source="10.41.250.9")}))[0].segment == "party"
    )  # management = intranet
    with pytest.raises(ConfigError, match=r"vantages\.x\.segment: source 192\.0\.2\.1 is in no segment"):
        isolation_targets(luohe, named({"x": Vantage(source="192.0.2.1")}))
    explicit = isolation_targets(luohe, named({"x": Vantage(source="192.0.2.1", segment="extranet")}))
    assert {t.segment for t in explicit} == {"intranet", "party", "management"}


def test_the_shipped_profile_parses_and_documents_the_builtin_matrix(luohe: Any) -> None:
    profile = yaml.safe_load(PROFILE.read_text())
    settings = IsolationSettings.parse(profile)
    assert dict(settings.matrix) == dict(MATRIX)
    assert set(settings.vantages) == {"party-noc", "intranet-noc"}
    assert settings.icmp.count == 3
    targets = isolation_targets(luohe, settings.vantages, settings.matrix)
    counts = {name: sum(t.params["vantage"] == name for t in targets) for name in settings.vantages}
    assert counts == {"party-noc": 337, "intranet-noc": 204}  # the numbers probes/README.md gives
    used = {str(m.address.ip) for e in (*luohe.units, *luohe.nodes) for m in e.segments.values()}
    assert not {v.source for v in settings.vantages.values()} & used


def test_settings_are_strict() -> None:
    good = {"vantages": {"p": {"source": "127.0.0.1"}}}
    for bad, message in (
        ({**good, "vantage": {}}, "unknown isolation setting.*vantage"),
        ({}, r"vantages: required key is missing"),
        ({"vantages": {"p": {"netns": "x"}}}, r"vantages\.p\.source: required key is missing"),
        ({"vantages": {"p": {"source": "127.0.0.1", "vrf": "x"}}}, r"vantages\.p\.vrf: unknown"),
        ({"vantages": {"p": {"source": "nope"}}}, r"vantages\.p\.source"),
        (
            {"vantages": {"p": {"source": "127.0.0.1", "name": "q"}}},
            r"vantages\.p: a vantage is named by its key",
        ),
        ({**good, "count": 0}, "count"),
        ({**good, "matrix": {"party": ["party"]}}, "itself"),
        ({**good, "matrix": {"party": ["internet"]}}, r"matrix\.party"),
    ):
        with pytest.raises(ConfigError, match=message):
            IsolationSettings.parse(bad)
    assert default_kinds()["isolation"].settings is IsolationSettings


def test_a_missing_namespace_fails_at_load() -> None:
    with pytest.raises(
        ConfigError, match=r"vantages\.p\.netns: network namespace gvl-nosuch-probe does not exist"
    ):
        isolation_probe({"vantages": {"p": {"source": "127.0.0.1", "netns": "gvl-nosuch-probe"}}})


# --- loopback and a namespace of our own ---------------------------------------------------------


@pytest.mark.lab
def test_an_answer_is_a_breach_and_what_was_not_probed_is_no_success() -> None:
    raw_sockets()
    probe = isolation_probe({"vantages": {"lo": {"source": "127.0.0.1"}}, "count": 2, "echo_interval": 0.01})
    targets = [
        Target("u1", "intranet", "127.0.0.5", params={"vantage": "lo"}),
        Target("u2", "intranet", "10.1.2.3", params={"vantage": "lo"}),
        Target("u3", "intranet", "127.0.0.6", params={"vantage": "elsewhere"}),
        Target("u4", "intranet", "127.0.0.7"),  # one vantage: it is the default
    ]
    try:
        results = run(probe, targets)
    finally:
        asyncio.run(probe.close())
    assert [(r.success, r.detail) for r in results] == [
        (False, "BREACH: 127.0.0.5 answered from vantage lo"),
        (False, "address not allowed"),
        (False, "not probed: unknown vantage 'elsewhere'"),
        (False, "BREACH: 127.0.0.7 answered from vantage lo"),
    ]
    assert results[0].values == {"answered": 2} and results[1].values == {"answered": 0}
    assert results[1].sent == 0 and all(r.probe == "isolation" for r in results)


@pytest.fixture
def vantage_ns() -> Iterator[str]:
    """A namespace whose only address (besides lo) is 198.18.77.1: local there, nowhere else."""
    raw_sockets()
    need(shutil.which("ip") is not None, "needs iproute2")
    name = f"gviso{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)
        subprocess.run(
            ["ip", "-n", name, "addr", "add", "198.18.77.1/32", "dev", "lo"], check=True, capture_output=True
        )
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def test_icmp_checks_the_source_in_the_namespace_of_its_socket(vantage_ns: str) -> None:
    """A probe opened inside a namespace, run from the caller's thread, may send from that namespace's address."""
    settings = IcmpSettings.parse({"allowed_networks": ["198.18.77.0/24"], "count": 1})
    inside = in_netns(vantage_ns, lambda: IcmpProbe(settings))
    outside = IcmpProbe(settings)
    target = [Target("u", "party", "198.18.77.1", source="198.18.77.1")]
    try:
        assert [(r.success, r.detail) for r in run(inside, target)] == [(True, "")]
        assert [r.detail for r in run(outside, target)] == ["source 198.18.77.1 is not a local address"]
    finally:
        asyncio.run(inside.close())
        asyncio.run(outside.close())


# --- the lab twin: healthy, leaked, healed -------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with module_lab(tmp_path_factory, "isolation", "i") as lab:
        yield lab


def test_lab_leak_is_a_breach_both_ways_until_healed(lab: Lab) -> None:
    twin = load_twin(lab.name, lab.state)
    topology, units = twin.topology, twin.record["units"]
    intranet_only = next(u for u in units if "intranet" in u["segments"] and "party" not in u["segments"])
    dual = next(u for u in units if {"intranet", "party"} <= set(u["segments"]))
    probe = isolation_probe(
        {
            "vantages": {
                "party-noc": {
                    "source": str(topology.prober_address("party")),
                    "netns": topology.netns("probe"),
                },
                "intranet-unit": {
                    "source": intranet_only["host"],
                    "netns": topology.netns(intranet_only["node"]),
                },
            },
            "allowed_networks": [NETWORK],
            "count": 2,
            "echo_interval": 0.05,
            "timeout": 0.5,
        }
    )
    assert isinstance(probe, IsolationProbe)
    targets = probe.targets(load(Path(lab.info["inventory"])).inventory)
    dual_intranet, dual_party = dual["host"], str(topology.node(dual["node"]).address("party"))
    assert {(t.params["vantage"], t.address) for t in targets} >= {
        ("party-noc", dual_intranet),
        ("intranet-unit", dual_party),
    }
    try:
        healthy = run(probe, targets)
        assert [r.detail for r in healthy] == ["isolated"] * len(targets)
        lab.cli("fault", dual["id"], "isolation-leak")
        leaked = run(probe, targets)
        lab.cli("heal", dual["id"])
        healed = run(probe, targets)
    finally:
        asyncio.run(probe.close())
    breaches = {(r.target.params["vantage"], r.target.address): r for r in leaked if not r.success}
    assert set(breaches) == {("party-noc", dual_intranet), ("intranet-unit", dual_party)}
    assert (
        breaches["party-noc", dual_intranet].detail
        == f"BREACH: {dual_intranet} answered from vantage party-noc"
    )
    assert all(r.values["answered"] >= 1 and r.target.unit == dual["id"] for r in breaches.values())
    assert all(r.success for r in healed)
