"""Generate an N-unit inventory on loopback addresses, for benchmarks (``bench/daemon_bench.py``).

Every address is in 127.0.0.0/8 (which the Linux loopback answers as a whole), split into four
distinct sub-ranges so the segment plans do not overlap, as ``govnet inventory validate`` wants:

| range | holds |
|---|---|
| 127.16.0.0/12 | management (device hosts) |
| 127.32.0.0/12 | intranet |
| 127.48.0.0/12 | party |
| 127.64.0.0/12 | extranet |

Topology: one core, one aggregation node per ``--per-agg`` units (default 100), every unit on
all three segments (``--mix`` puts half of them on the party network and two thirds on the
extranet, closer to a real city). Each device answers SNMPv2c with ``env:GOVNET_BENCH_COMMUNITY``
and watches interface ``lo`` (a loopback ``snmpd`` serves every address); its uplink is ``lo`` too
unless ``--uplink`` names another (``bench/daemon_bench.py --health on`` names the Huawei-like
uplink its agent serves).

    .venv/bin/python bench/gen_inventory.py 10000 > /tmp/bench-inventory.yml
    .venv/bin/python -m govnet inventory validate --inventory /tmp/bench-inventory.yml
"""

from __future__ import annotations

import argparse
import sys
from ipaddress import IPv4Address
from typing import Any

import yaml

MANAGEMENT = IPv4Address("127.16.0.0")
SEGMENT_BASE = {
    "intranet": IPv4Address("127.32.0.0"),
    "party": IPv4Address("127.48.0.0"),
    "extranet": IPv4Address("127.64.0.0"),
}
PLAN = {
    "intranet": ("127.32.0.0/12", "INTRANET", 101, 999),
    "party": ("127.48.0.0/12", "PARTY", 1101, 1999),
    "extranet": ("127.64.0.0/12", "EXTRANET", 2101, 2999),
}
MAX_UNITS = 200_000


def _segments_of(index: int, mix: bool) -> list[str]:
    if not mix:
        return ["intranet", "party", "extranet"]
    found = ["intranet"]
    if index % 2 == 0:
        found.append("party")
    if index % 3 != 0:
        found.append("extranet")
    return found


def _device(name: str, host: IPv4Address, role: str, uplink: str = "lo") -> dict[str, Any]:
    """``uplink``: what the health kind polls (the agent must serve an interface of that name);
    the ``snmp`` kind watches ``lo`` whatever it is."""
    return {
        "name": name,
        "role": role,
        "platform": "huawei_vrp",
        "host": str(host),
        "uplink": uplink,
        "interfaces": ["lo"],
    }


def _membership(segment: str, slot: int, vlan: int | None = None, wave: int | None = None) -> dict[str, Any]:
    """Slot ``slot`` of a segment: a /30 whose first host is the element's address."""
    entry: dict[str, Any] = {"address": f"{SEGMENT_BASE[segment] + 4 * slot + 1}/30"}
    if vlan is not None:
        entry["vlan"] = vlan
    if wave is not None:
        entry["wave"] = wave
    return entry


def inventory(units: int, per_agg: int = 100, mix: bool = False, uplink: str = "lo") -> dict[str, Any]:
    """The whole inventory as plain data (one YAML document); every device's uplink is ``uplink``."""
    aggs = -(-units // per_agg)
    nodes: list[dict[str, Any]] = [
        {
            "id": "core",
            "name": "核心节点",
            "slug": "core",
            "kind": "core",
            "segments": {s: _membership(s, 0) for s in PLAN},
            "devices": [_device("CORE-01", MANAGEMENT + 1, "core", uplink)],
        }
    ]
    for a in range(aggs):
        nodes.append(
            {
                "id": f"agg-{a:04d}",
                "name": f"汇聚节点{a:04d}",
                "slug": f"agg-{a:04d}",
                "kind": "aggregation",
                "parent": "core",
                "segments": {s: _membership(s, 1 + a) for s in PLAN},
                "devices": [_device(f"AGG-{a:04d}", MANAGEMENT + 256 + a, "aggregation", uplink)],
            }
        )
    first_unit_slot = 1 + aggs
    rows: list[dict[str, Any]] = []
    for i in range(units):
        vlan_offset = (i % per_agg) + 1
        segments = {}
        for segment in _segments_of(i, mix):
            _, _, first, _ = PLAN[segment]
            wave = 1 + i % 5 if segment == "extranet" else None
            segments[segment] = _membership(segment, first_unit_slot + i, first - 1 + vlan_offset, wave)
        rows.append(
            {
                "id": f"u{i:06d}",
                "name": f"测试单位{i:06d}",
                "slug": f"u{i:06d}",
                "kind": "bureau",
                "parent": f"agg-{i // per_agg:04d}",
                "segments": segments,
                "devices": [_device(f"U{i:06d}-AS01", MANAGEMENT + 65536 + i, "access", uplink)],
                "registration": {"number": f"备{i:06d}", "date": "2020-01-01"},
                "agreement": {"signed": "2020-02-01", "signatory": "测试"},
            }
        )
    return {
        "site": {
            "name": "基准测试市",
            "slug": "bench",
            "operator": "govnet bench",
            "management": ["127.16.0.0/12"],
        },
        "segments": {
            name: {
                "description": f"{name} (bench, loopback)",
                "supernets": [net],
                "vrf": vrf,
                "vlans": {"first": first, "last": last},
            }
            for name, (net, vrf, first, last) in PLAN.items()
        },
        "defaults": {
            "device": {
                "credentials": {"username": "govnet", "password": "env:GOVNET_BENCH_PASSWORD"},
                "snmp": {"version": "v2c", "community": "env:GOVNET_BENCH_COMMUNITY"},
            }
        },
        "nodes": nodes,
        "units": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", type=int, help="how many units")
    parser.add_argument("--per-agg", type=int, default=100, help="units per aggregation node")
    parser.add_argument("--mix", action="store_true", help="not every unit on every segment")
    parser.add_argument("--uplink", default="lo", help="every device's uplink interface (health polls it)")
    args = parser.parse_args(argv)
    if not 1 <= args.units <= MAX_UNITS or args.per_agg < 1 or args.per_agg > 899:
        parser.error(f"units must be 1..{MAX_UNITS}, --per-agg 1..899 (VLANs per aggregation)")
    sys.stdout.write("# Generated by bench/gen_inventory.py: loopback addresses only.\n")
    yaml.dump(
        inventory(args.units, args.per_agg, args.mix, args.uplink),
        sys.stdout,
        allow_unicode=True,
        sort_keys=False,
        width=140,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
