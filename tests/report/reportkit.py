"""A real Prometheus holding synthetic history (backfilled with ``promtool tsdb
create-blocks-from openmetrics``), so that reports over 30 days have exact expected numbers.

History: 30 days of samples every 10 minutes ending at ``END`` (an hour boundary an hour ago),
for the units of tests/data/valid/minimal.yml, as two shards would export them:

* party: sz-fagaiwei (shard1) always up; zl-wanjin (shard2) down [END-10d, END-10d+6h) and
  [END-2d, END-2d+30m); core-city (a node, exported by both shards) always up;
* intranet: sz-fagaiwei up; sz-caizheng (shard1) down for the last hour (still down at END).

``govnet_segment_units`` carries the per-state counts each shard would export.

``govnet_config_pending`` (not yet built, 未建), from the drift check:

* intranet: sz-caizheng pending throughout; sz-fagaiwei pending until END-20d, then built (0);
* party: sz-caizheng pending throughout (its push failed); zl-wanjin pending until END-1d, then
  no longer reported (a stale sample must not count); sz-fagaiwei never pending;
* extranet: sz-fagaiwei (wave 1) pending throughout; core-city too, from both shards (a node:
  not a unit of the report).
"""

from __future__ import annotations

import math
import subprocess
import time
from pathlib import Path

from tests.binkit import Server, binary

DAY = 86400
END = math.floor(time.time() / 3600) * 3600 - 3600
START = END - 30 * DAY
EVERY = 600
NAMES = {
    "core-city": ("核心节点", "core", ""),
    "sz-fagaiwei": ("测试市发展和改革委员会", "bureau", "core-city"),
    "sz-caizheng": ("测试市财政局", "bureau", "core-city"),
    "zl-wanjin": ("召陵区万金镇党委", "township", "core-city"),
}
DOWN = {
    ("party", "zl-wanjin"): [
        (END - 10 * DAY, END - 10 * DAY + 6 * 3600),
        (END - 2 * DAY, END - 2 * DAY + 1800),
    ],
    ("intranet", "sz-caizheng"): [(END - 3600, END + 3600)],
}
UNITS = {  # (segment, unit) -> shards exporting it
    ("party", "sz-fagaiwei"): ["shard1"],
    ("party", "zl-wanjin"): ["shard2"],
    ("party", "core-city"): ["shard1", "shard2"],
    ("intranet", "sz-fagaiwei"): ["shard1"],
    ("intranet", "sz-caizheng"): ["shard1"],
    ("intranet", "core-city"): ["shard1", "shard2"],
}

PENDING = {  # (segment, unit) -> (shards exporting it, pending until, reported until)
    ("intranet", "sz-caizheng"): (["shard1"], END, END),
    ("intranet", "sz-fagaiwei"): (["shard1"], END - 20 * DAY, END),
    ("party", "sz-caizheng"): (["shard1"], END, END),
    ("party", "zl-wanjin"): (["shard2"], END, END - DAY),
    ("party", "sz-fagaiwei"): (["shard1"], START, END),
    ("extranet", "sz-fagaiwei"): (["shard1"], END, END),
    ("extranet", "core-city"): (["shard1", "shard2"], END, END),
}


def up(segment: str, unit: str, moment: int) -> int:
    return 0 if any(a <= moment < b for a, b in DOWN.get((segment, unit), [])) else 1


def openmetrics() -> str:
    """The history as OpenMetrics text (``# EOF``-terminated, grouped by metric family)."""
    moments = range(START, END, EVERY)
    lines = ["# TYPE govnet_unit_info gauge"]
    for shard in ("shard1", "shard2"):
        for unit, (name, kind, parent) in NAMES.items():
            labels = f'instance="{shard}:9430",job="govnet",unit="{unit}",name="{name}",kind="{kind}",parent="{parent}"'
            lines += [f"govnet_unit_info{{{labels}}} 1 {t}" for t in moments]
    lines.append("# TYPE govnet_unit_up gauge")
    for (segment, unit), shards in UNITS.items():
        for shard in shards:
            labels = f'instance="{shard}:9430",job="govnet",segment="{segment}",unit="{unit}"'
            lines += [f"govnet_unit_up{{{labels}}} {up(segment, unit, t)} {t}" for t in moments]
    lines.append("# TYPE govnet_segment_units gauge")
    for shard in ("shard1", "shard2"):
        for segment in ("intranet", "party"):
            mine = [u for (s, u), shards in UNITS.items() if s == segment and shards == [shard]]
            if not mine:
                continue
            for state in ("up", "down"):
                labels = f'instance="{shard}:9430",job="govnet",segment="{segment}",state="{state}"'
                for t in moments:
                    count = sum(up(segment, u, t) for u in mine)
                    lines.append(
                        f"govnet_segment_units{{{labels}}} {count if state == 'up' else len(mine) - count} {t}"
                    )
    lines += pending_lines(moments)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def pending_lines(moments: range) -> list[str]:
    lines = ["# TYPE govnet_config_pending gauge"]
    for (segment, unit), (shards, until, reported) in PENDING.items():
        for shard in shards:
            labels = f'instance="{shard}:9430",job="govnet",segment="{segment}",unit="{unit}"'
            lines += [
                f"govnet_config_pending{{{labels}}} {int(t < until)} {t}" for t in moments if t < reported
            ]
    return lines


class HistoryPrometheus(Server):
    """``prometheus`` over a TSDB backfilled with `openmetrics`, retention long enough to keep it."""

    def __init__(self, directory: Path) -> None:
        promtool = binary("promtool", package="prometheus")
        source, tsdb = directory / "history.om", directory / "tsdb"
        source.write_text(openmetrics(), encoding="utf-8")
        subprocess.run(
            # one pass over the file per block: few, long blocks (the default 2 h blocks take minutes)
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--max-block-duration=768h",
                str(source),
                str(tsdb),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        config = directory / "prometheus.yml"
        config.write_text("global: {scrape_interval: 1m}\nscrape_configs: []\n")
        argv = [
            binary("prometheus", package="prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            "--storage.tsdb.retention.time=90d",
        ]
        super().__init__("prometheus", argv, directory, ready_within=60)

    @property
    def url(self) -> str:
        return self.base
