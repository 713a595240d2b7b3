"""What the exporter tests share: metric names the collector exports, a real Prometheus process,
and a configuration for it derived from deploy/prometheus.yml.

Nothing sleeps for a fixed time; waits are bounded polls (tests.exporters.exportlab.until).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import yaml

from tests.binkit import Server, binary
from tests.helpers import ROOT, need

COLLECTORS = [
    ROOT / "govnet" / "metrics" / "collector.py",
    ROOT / "govnet" / "metrics" / "audit.py",
    *sorted((ROOT / "govnet" / "probes").glob("*/*.py")),
]
"""The daemon's collector and every probe kind's (each kind's package holds its own)."""
RULES = ROOT / "exporters" / "prometheus" / "govnet.rules.yml"
HEALTH_RULES = ROOT / "exporters" / "prometheus" / "govnet-health.rules.yml"
DEPLOY_PROMETHEUS = ROOT / "deploy" / "prometheus.yml"


def collector_metrics() -> set[str]:
    """Metric names as exposed by the daemon's collectors: counters get ``_total``, info ``_info``."""
    source = "\n".join(path.read_text() for path in COLLECTORS)
    out = set()
    for kind, name in re.findall(r"(Gauge|Counter|Info)MetricFamily\(\s*\"([a-z_]+)\"", source):
        out.add(name + {"Gauge": "", "Counter": "_total", "Info": "_info"}[kind])
    return out


def recorded_names() -> set[str]:
    return {
        r["record"]
        for path in sorted(RULES.parent.glob("*.rules.yml"))
        for g in yaml.safe_load(path.read_text())["groups"]
        for r in g["rules"]
        if "record" in r
    }


def metric_names(expr: str) -> set[str]:
    """govnet metric names and recorded names (``level:metric:ops``) an expression reads.

    >>> sorted(metric_names('max by (unit) (govnet_unit_up{segment="party"}) / a:b:c[5m] or up'))
    ['a:b:c', 'govnet_unit_up']
    """
    outside = re.sub(r"\{[^}]*\}", "{}", expr)
    return set(re.findall(r"\b(govnet_[a-z0-9_]+|[a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b", outside))


def promtool() -> str:
    path = shutil.which("promtool")
    need(path is not None, "promtool is not installed (Debian package prometheus)")
    assert path is not None
    return path


def run_promtool(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``promtool ARGS``, its exit code and output whatever they are."""
    return subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def lab_speed_rules(directory: Path) -> Path:
    """The shipped rules, with the 2-minute group run every 2 s (a test lasts a minute)."""
    data = yaml.safe_load(RULES.read_text())
    for group in data["groups"]:
        if "interval" in group:
            group["interval"] = "2s"
    path = directory / "govnet.rules.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def lab_speed_health_rules(directory: Path) -> Path:
    """The shipped device-health rules with every ``for`` at 2 s (a test lasts a minute)."""
    data = yaml.safe_load(HEALTH_RULES.read_text())
    for group in data["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "2s"
    path = directory / "govnet-health.rules.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def prometheus_config(
    directory: Path, daemon: str, rules: Path | list[Path], alertmanager: str | None = None
) -> Path:
    """deploy/prometheus.yml pointed at the test's daemon and rules, scraping every second."""
    config = yaml.safe_load(DEPLOY_PROMETHEUS.read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["rule_files"] = [str(r) for r in (rules if isinstance(rules, list) else [rules])]
    if alertmanager is None:
        del config["alerting"]
    else:
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [alertmanager]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["govnet"]["static_configs"][0]["targets"] = [daemon]
    config["scrape_configs"] = [jobs["govnet"]]
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Prometheus(Server):
    """A real ``prometheus`` on 127.0.0.1 with a fresh TSDB; ``stop`` kills it for sure."""

    def __init__(self, config: Path, directory: Path) -> None:
        argv = [
            binary("prometheus", package="prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'tsdb'}",
            "--web.enable-lifecycle",
        ]
        super().__init__("prometheus", argv, directory)

    def api(self, path: str, **params: Any) -> Any:
        body = self.call(f"/api/v1/{path}?{urllib.parse.urlencode(params)}")
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=expr)["result"])

    def query_range(self, expr: str, start: float, end: float, step: float = 2) -> list[dict[str, Any]]:
        return list(self.api("query_range", query=expr, start=start, end=end, step=step)["result"])

    def alerts(self, name: str, state: str = "firing") -> list[dict[str, str]]:
        return [r["metric"] for r in self.query(f'ALERTS{{alertname="{name}", alertstate="{state}"}}')]
