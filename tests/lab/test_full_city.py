"""The full city: a 255-unit lab answers on every segment of every unit, clones included.

255 units are more than the site's 146, so the lab clones units (``…-c2``) and builds ~1,300
veth links. The kernel's ARP table is one table for every namespace, and its dynamic entries stop
at ``gc_thresh3`` (1024 by default): before the lab pinned its neighbours, a third of the
unit-segments never answered ("neighbor table overflow" in the kernel log). One `govnet probe`
cycle through the kernel must find all of them up, and every link peer resolved permanently.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.labkit import Lab, govnet, lab_up

NETWORK = "198.18.0.0/17"
UNITS = 255


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory, kit: Any) -> Iterator[Lab]:
    kit.require_lab(("ip", "ping", "snmpd"))
    state = tmp_path_factory.mktemp("city")
    name = "c" + uuid.uuid4().hex[:6]
    with lab_up(state, name, NETWORK, "--units", str(UNITS)) as info:
        yield Lab(name, state, info)


def test_every_unit_and_segment_answers_clones_included(city: Lab) -> None:
    units = city.info["units"]
    assert len(units) == UNITS
    assert sum(u["id"].endswith("-c2") for u in units) == UNITS - 146
    inventory = city.dir / "inventory.yml"
    result = govnet(city.state, "probe", "--inventory", str(inventory), "--json")
    rows = json.loads(result.stdout)
    states = Counter(row["state"] for row in rows)
    down = [f"{row['unit']}/{row['segment']}" for row in rows if row["state"] != "up"]
    assert not down, f"{states}: {down[:20]}"
    assert len(rows) > 2 * UNITS  # every segment of every unit and node, not a subset


def test_link_peers_are_resolved_without_arp(city: Lab) -> None:
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    prefix = f"gvl-{city.name}-u"
    units = sorted(line.split()[0] for line in namespaces.splitlines() if line.startswith(prefix))
    assert len(units) > 2 * UNITS  # every unit's namespace of each of its segments
    for ns in units[:: len(units) // 40]:
        neigh = subprocess.run(
            ["ip", "-n", ns, "neigh", "show", "dev", "uplink"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        assert neigh, ns
        assert all("PERMANENT" in line for line in neigh), (ns, neigh)
