"""Build govnet's Grafana dashboards (the JSON files next to this script).

    .venv/bin/python -m exporters.grafana.dashboards      # rewrites exporters/grafana/*.json

Why a script and not hand-edited JSON: four dashboards share one layout grammar, one datasource
variable and one way of joining the inventory facts (``govnet_unit_info``) onto a series; a
generator keeps them consistent and keeps every PromQL expression in one readable place. The
JSON it writes is committed and reviewed in diffs (tests/exporters/test_dashboards.py checks
that the files are what this script writes, and evaluates every expression against a real
Prometheus scraping a daemon that watches the lab).

Metrics are those of govnet/metrics/collector.py and the records of
exporters/prometheus/govnet.rules.yml.
"""

from __future__ import annotations

import json
from pathlib import Path

from exporters.grafana.health import health
from exporters.grafana.isolation import isolation
from exporters.grafana.overview import overview
from exporters.grafana.rollout import rollout
from exporters.grafana.unit import unit_detail

HERE = Path(__file__).resolve().parent

BOARDS = {
    "govnet-overview.json": overview,
    "govnet-unit.json": unit_detail,
    "govnet-rollout.json": rollout,
    "govnet-isolation.json": isolation,
    "govnet-health.json": health,
}


def render() -> dict[str, str]:
    return {
        name: json.dumps(build().json(), ensure_ascii=False, indent=2) + "\n"
        for name, build in BOARDS.items()
    }


def main() -> None:
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
