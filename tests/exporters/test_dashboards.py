"""govnet's Grafana dashboards: the committed JSON is what exporters/grafana/dashboards.py writes,
the provisioning points at it, and every PromQL expression of every dashboard returns data from a
real Prometheus scraping a real ``govnet daemon`` that watches a lab twin.

The live part: `govnet lab up` (198.18.0.0/17), the daemon at lab speed, Prometheus (config
derived from deploy/prometheus.yml, the shipped rules, scrape and evaluation every second). Then
the lab is made to show what the dashboards are for: a unit reboots (device-down, heal) and then
loses its link (path localised), another unit leaks across the party isolation. Every panel
target is evaluated as Grafana would: a range query over the test's window, or an instant query
where the target says ``instant``; template variables get a value the dashboard's own variable
query offers. Latencies are printed (``pytest -s``).
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from exporters.grafana import dashboards
from govnet.inventory.loader import load
from tests.exporters.exportlab import DaemonProcess, Lab, govnet, lab_twin, until
from tests.exporters.promkit import (
    DEPLOY_PROMETHEUS,
    Prometheus,
    collector_metrics,
    lab_speed_health_rules,
    lab_speed_rules,
    metric_names,
    prometheus_config,
    recorded_names,
    run_promtool,
)
from tests.helpers import ROOT

GRAFANA = ROOT / "exporters" / "grafana"
BOARDS = sorted(GRAFANA.glob("*.json"))
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
NETWORK = "198.18.0.0/17"
BUILTINS = {"__rate_interval": "10s", "__interval": "2s", "__range": "300s"}
VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Expr:
    board: str
    panel: str
    ref: str
    expr: str
    instant: bool

    def __str__(self) -> str:
        return f"{self.board}: {self.panel} [{self.ref}]"


def expressions() -> list[Expr]:
    out = []
    for path in BOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                out.append(Expr(path.stem, panel["title"], t["refId"], t["expr"], bool(t.get("instant"))))
        for note in board["annotations"]["list"]:
            if "expr" in note:
                out.append(Expr(path.stem, f"annotation {note['name']}", "A", note["expr"], False))
    return out


def variables() -> list[tuple[str, str, str]]:
    """(board, variable, query) of every query variable."""
    out = []
    for path in BOARDS:
        for var in json.loads(path.read_text())["templating"]["list"]:
            if var["type"] == "query":
                out.append((path.stem, var["name"], var["query"]["query"]))
    return out


def substitute(expr: str, values: dict[str, str]) -> str:
    """Grafana's interpolation of ``$var`` / ``${var}``; ``$1`` (label_replace) is not a variable.

    >>> substitute('x{unit="$unit"}[$__rate_interval] "$1"', {"unit": "u1", "__rate_interval": "10s"})
    'x{unit="u1"}[10s] "$1"'
    """
    return VARIABLE.sub(lambda m: values[m.group(1) or m.group(2)], expr)


# ---------------------------------------------------------------- static


def test_committed_json_is_what_the_generator_writes() -> None:
    rendered = dashboards.render()
    assert sorted(rendered) == [p.name for p in BOARDS]
    for path in BOARDS:
        assert path.read_text() == rendered[path.name], (
            f"regenerate: python -m exporters.grafana.dashboards ({path.name})"
        )


def test_dashboards_are_well_formed() -> None:
    uids = set()
    for path in BOARDS:
        board = json.loads(path.read_text())
        assert board["uid"] not in uids and len(board["uid"]) <= 40
        uids.add(board["uid"])
        assert board["templating"]["list"][0]["type"] == "datasource"
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
            for t in panel.get("targets", []):
                assert t["datasource"]["uid"] == "${datasource}", panel["title"]
    assert {"govnet-overview", "govnet-unit", "govnet-rollout", "govnet-isolation"} <= uids


def test_expressions_read_metrics_the_daemon_exports() -> None:
    known = collector_metrics() | recorded_names()
    for item in expressions():
        names = metric_names(item.expr)
        assert names or "ALERTS" in item.expr, item
        assert names <= known, f"{item}: {names - known}"


def test_unit_dashboard_covers_what_the_operator_needs() -> None:
    exprs = " ".join(e.expr for e in expressions() if e.board == "govnet-unit")
    for metric in (
        "govnet_icmp_rtt_seconds",
        "govnet_icmp_packet_loss_ratio",
        "govnet_snmp_if_oper_status",
        "govnet_device_reboots_total",
        "govnet_unit_path_last_hop_info",
    ):
        assert metric in exprs


def test_overview_and_unit_boards_count_what_is_not_yet_built() -> None:
    """Pending rollout is shown apart from drift: per segment on the overview (units, not nodes, as
    the construction report counts them), the unit's pending parts on the unit board."""
    panels = {
        (e.board, e.panel): e.expr for e in expressions() if "govnet_config_pending" in metric_names(e.expr)
    }
    overview = panels[("govnet-overview", "未建单位 Units not yet built")]
    assert overview.startswith("sum by (segment) (max by (segment, unit) (govnet_config_pending)")
    assert 'kind!~"core|aggregation|carrier"' in overview
    assert 'govnet_config_pending{unit="$unit"}' in panels[("govnet-unit", "未建网络 Segments not yet built")]
    lines = [
        e.expr for e in expressions() if e.board == "govnet-unit" and "govnet_config_pending_lines" in e.expr
    ]
    assert lines == ['max by (kind) (govnet_config_pending_lines{unit="$unit"})']
    drift = [e for e in expressions() if "govnet_config_drift_lines" in e.expr]
    assert drift and not any("pending" in e.expr for e in drift), "drift panels stay apart from pending"


def test_provisioning_points_at_the_dashboards_and_prometheus() -> None:
    (provider,) = yaml.safe_load((PROVISIONING / "dashboards" / "govnet.yml").read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].endswith("exporters/grafana")
    sources = yaml.safe_load((PROVISIONING / "datasources" / "govnet.yml").read_text())["datasources"]
    (prometheus,) = [s for s in sources if s["type"] == "prometheus"]
    assert prometheus["isDefault"] is True and prometheus["url"].startswith("http://127.0.0.1:")


@pytest.mark.lab
def test_promtool_check_config_of_the_deployed_and_the_test_config(tmp_path: Path) -> None:
    test_config = prometheus_config(tmp_path, "127.0.0.1:9430", lab_speed_rules(tmp_path), "127.0.0.1:9093")
    for config in (DEPLOY_PROMETHEUS, test_config):
        result = run_promtool("check", "config", str(config))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "21 rules found" in result.stdout, result.stdout


# ---------------------------------------------------------------- live


@dataclass
class Stack:
    lab: Lab
    daemon: DaemonProcess
    prometheus: Prometheus
    values: dict[str, str]
    faulted: str
    leaking: str


def wait_for(prom: Prometheus, expr: str, bound: float, what: str) -> list[dict[str, Any]]:
    return until(lambda: prom.query(expr), bound, what, prom.log)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("dashboards")
    with lab_twin(tmp, Lab, network=NETWORK, units=24, prefix="g") as lab:
        daemon = DaemonProcess(lab.daemon_config(tmp), tmp / "daemon.log").start()
        prom: Prometheus | None = None
        try:
            listen = yaml.safe_load((tmp / "daemon.yml").read_text())["listen"]
            rules = [lab_speed_rules(tmp), lab_speed_health_rules(tmp)]
            prom = Prometheus(prometheus_config(tmp, listen, rules), tmp)
            yield prepare(cast(Lab, lab), daemon, prom)  # lab_twin(tmp, Lab) makes one
        finally:
            if prom is not None:
                prom.stop()
            if daemon.alive():
                daemon.stop()


def prepare(lab: Lab, daemon: DaemonProcess, prom: Prometheus) -> Stack:
    """Healthy first (RTT, interfaces, traffic), then a reboot, a link down and an isolation leak."""
    units = lab.units({"intranet", "party", "extranet"})
    unit = units[0]["id"]
    leak = next(u["id"] for u in lab.units({"intranet", "party"}) if u["id"] != unit)
    inventory = load(lab.inventory).inventory
    element = inventory.unit(unit)
    assert element is not None and element.parent is not None
    wave = element.segments["extranet"].wave
    assert wave is not None
    values = {"segment": "intranet", "unit": unit, "parent": element.parent, "wave": str(wave), **BUILTINS}
    values[HEALTH_UNIT] = next(  # not a faulted one: a unit that does not answer has no health series
        u.id for u in inventory.units if u.device.platform == "huawei_vrp" and u.id not in (unit, leak)
    )

    wait_for(
        prom, "min(govnet_unit_up) == 1 and count(govnet_unit_up) > 20", 60, "every unit up in Prometheus"
    )
    wait_for(prom, f'rate(govnet_snmp_if_in_octets_total{{unit="{unit}"}}[10s])', 30, "traffic of the unit")
    wait_for(prom, "segment_unit:govnet_unit_availability:ratio_30d", 30, "the 30-day record")
    healthy = f'unit_ifname:govnet_interface_utilisation:ratio_rate5m{{unit="{values[HEALTH_UNIT]}"}}'
    wait_for(prom, healthy, 60, "device health polled by the daemon and recorded")

    # a rollout run recorded in the daemon's state store: the rollout board marks it
    rolled = next(u["id"] for u in lab.units({"extranet"}) if u["id"] != unit)
    state = Path(yaml.safe_load(daemon.config.read_text())["state"])
    planned = state.parent / "rollout-plan.json"
    where = ["--inventory", str(lab.inventory), "--state", str(state)]
    govnet(
        lab.state, "rollout", "plan", "--segment", "extranet", "--unit", rolled, "--out", str(planned), *where
    )
    govnet(lab.state, "rollout", "apply", str(planned), "--yes", *where)
    wait_for(
        prom, 'govnet_rollout_last_end_timestamp_seconds{segment="extranet"}', 30, "the rollout run exported"
    )

    # drift: an extranet part govnet applied to another unit, then put back by a rollback (the lab's
    # parts never rolled out are pending rollout, never drift); a reload runs the drift check again
    undone = next(u["id"] for u in lab.units({"extranet"}) if u["id"] not in (unit, rolled))
    govnet(
        lab.state, "rollout", "plan", "--segment", "extranet", "--unit", undone, "--out", str(planned), *where
    )
    applied = json.loads(
        govnet(lab.state, "rollout", "apply", str(planned), "--yes", "--json", *where).stdout
    )
    govnet(lab.state, "rollout", "rollback", applied["run"], "--yes", *where)
    daemon.signal(signal.SIGHUP)
    wait_for(prom, f'govnet_config_drift_lines{{unit="{undone}"}} > 0', 60, f"drift of {undone} exported")

    # a reboot shows as sysUpTime falling by more than 10 s: let the young lab device age first
    wait_for(prom, f'govnet_snmp_uptime_seconds{{unit="{unit}"}} > 40', 60, "the device up for 40 s")
    lab.cli("fault", unit, "device-down")
    lab.cli("heal", unit)
    wait_for(prom, f'govnet_device_reboots_total{{unit="{unit}"}}', 40, f"a reboot of {unit} counted")
    wait_for(
        prom,
        f'ALERTS{{alertname="GovnetDeviceRebooted", alertstate="firing", unit="{unit}"}}',
        30,
        "reboot alert",
    )

    started = time.monotonic()
    lab.cli("fault", unit, "link-down")
    lab.cli("fault", leak, "isolation-leak")
    wait_for(
        prom,
        f'ALERTS{{alertname="GovnetUnitDown", alertstate="firing", unit="{unit}"}}',
        45,
        "unit down alert",
    )
    print(f"\nlink-down -> GovnetUnitDown firing in Prometheus: {time.monotonic() - started:.1f} s")
    wait_for(prom, f'govnet_unit_path_last_hop_info{{unit="{unit}"}}', 30, "path localised")
    wait_for(
        prom,
        f'ALERTS{{alertname="GovnetPartyIsolationBreach", alertstate="firing", unit="{leak}"}}',
        30,
        "breach alert",
    )
    print(
        f"isolation-leak -> GovnetPartyIsolationBreach firing in Prometheus: {time.monotonic() - started:.1f} s"
    )
    return Stack(lab, daemon, prom, values, unit, leak)


HEALTH_UNIT = "health_unit"
"""The unit the "Device health" board is shown for: a Huawei one. Each lab agent serves its own
platform's health tables (`govnet.lab.healthsim`); tests/probes/health/test_health_lab.py shows the
board's data for a Cisco unit too."""


def values_for(stack: Stack, board: str) -> dict[str, str]:
    if board == "govnet-health":
        return stack.values | {"unit": stack.values[HEALTH_UNIT]}
    return stack.values


@pytest.mark.parametrize("item", expressions(), ids=str)
def test_every_dashboard_expression_returns_data(stack: Stack, item: Expr) -> None:
    expr = substitute(item.expr, values_for(stack, item.board))
    if item.instant:
        result = stack.prometheus.query(expr)
    else:
        result = stack.prometheus.query_range(expr, stack.prometheus.started, time.time())
    assert result, f"{item}: no data for {expr}"


DAEMON_VARIABLES = variables()


@pytest.mark.parametrize(
    ("board", "name", "query"), DAEMON_VARIABLES, ids=[f"{b}:{n}" for b, n, _ in DAEMON_VARIABLES]
)
def test_every_variable_offers_the_value_used(stack: Stack, board: str, name: str, query: str) -> None:
    match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", query)
    assert match, query
    selector, label = match.groups()
    offered = {r["metric"].get(label) for r in stack.prometheus.query(f"count by ({label}) ({selector})")}
    assert values_for(stack, board)[name] in offered, (
        f"{board}: ${name} offers {sorted(filter(None, offered))}"
    )


def test_overview_counts_the_units_not_yet_built_as_the_construction_report_does(stack: Stack) -> None:
    """The overview's per-segment 'not yet built' stat and `govnet report construction` agree."""
    (item,) = [e for e in expressions() if e.panel == "未建单位 Units not yet built"]
    board = {r["metric"]["segment"]: int(float(r["value"][1])) for r in stack.prometheus.query(item.expr)}
    state = yaml.safe_load(stack.daemon.config.read_text())["state"]
    where = ["--inventory", str(stack.lab.inventory), "--state", state, "--prometheus", stack.prometheus.base]
    rows = json.loads(govnet(stack.lab.state, "report", "construction", *where, "--json").stdout)["rows"]
    report = {r["segment"]: r["not_built"] for r in rows if r["wave"] is None}
    assert board == report and sum(board.values()) > 0, f"dashboard {board}, report {report}"


def test_the_lab_faults_raise_the_right_alerts_with_inventory_labels(stack: Stack) -> None:
    prom, unit = stack.prometheus, stack.faulted

    def unit_down() -> list[dict[str, str]]:
        return [a for a in prom.alerts("GovnetUnitDown") if a["unit"] == unit and a["segment"] == "intranet"]

    # Bounded wait, not an instant check: on a loaded machine the aggregation node above can miss
    # two echoes in a row; the unit is then "unreachable" (its alert rightly held back) until the
    # node answers again, and down anew once its path is localised (a few seconds) or after 30 s.
    try:
        (down,) = until(unit_down, 60, f"GovnetUnitDown of {unit} on intranet firing")
    except AssertionError as exc:
        states = prom.query(f'govnet_unit_state{{unit=~"{unit}|{stack.values["parent"]}"}} == 1')
        raise AssertionError(f"{exc}\nstates now: {[r['metric'] for r in states]}") from None
    element = load(stack.lab.inventory).inventory.unit(unit)
    assert element is not None
    assert down["name"] == element.name and down["parent"] == element.parent and down["severity"] == "warning"
    down_units = {a["unit"] for a in prom.alerts("GovnetUnitDown")}
    assert down_units == {unit}, "only the faulted unit is down"
    breaches = prom.alerts("GovnetPartyIsolationBreach")
    assert {a["unit"] for a in breaches} == {stack.leaking}
    assert all(a["severity"] == "critical" for a in breaches)
    rebooted = [a for a in prom.alerts("GovnetDeviceRebooted") if a["unit"] == unit]
    uptime = prom.query_range(f'govnet_snmp_uptime_seconds{{unit="{unit}"}}', prom.started, time.time(), 1)
    counter = prom.query_range(f'govnet_device_reboots_total{{unit="{unit}"}}', prom.started, time.time(), 1)
    assert len(rebooted) == 1, f"uptime {uptime}, reboots {counter}"
    assert rebooted[0]["name"] == element.name
