"""The overview board: the city at a glance, per segment and aggregation node; compliance."""

from __future__ import annotations

from exporters.grafana.board import COUNT_WARN, UP_STATE, Board, rows, target, thresholds
from exporters.grafana.joins import JOIN, NODE_KINDS, PARENT_NAMES
from exporters.grafana.pending import not_yet_built


def overview() -> Board:
    b = Board(
        "govnet-overview",
        "govnet — 全市总览 City overview",
        "The city's three government networks at a glance: availability per segment, units down, "
        "availability by aggregation node (district / county), firing alerts, configuration "
        "compliance and the units not yet built (pending rollout).",
        ["overview"],
    )
    b.variable("segment", "Segment", "label_values(govnet_unit_up, segment)", include_all=True)
    b.variable(
        "parent",
        "Aggregation node",
        'label_values(govnet_unit_info{kind!~"' + NODE_KINDS + '"}, parent)',
        include_all=True,
    )
    b.row("网络 Segments")
    b.availability(
        "当前可用率 Availability now",
        "segment:govnet_unit_availability:ratio",
        "{{segment}}",
        decimals=1,
        w=8,
        description="Share of measured units up (units behind a failed node count as not up).",
    )
    b.count(
        "中断单位 Units down",
        'sum by (segment) (govnet_segment_units{state="down"})',
        "{{segment}}",
        w=8,
        description="Units whose own link or device failed.",
    )
    b.count(
        "不可达单位 Units unreachable",
        'sum by (segment) (govnet_segment_units{state="unreachable"})',
        "{{segment}}",
        w=8,
        steps=COUNT_WARN,
        description="Units behind a failed node: not their fault, not alerted on their own.",
    )
    b.timeseries(
        "各网络可用率 Availability per segment",
        [target("segment:govnet_unit_availability:ratio", "{{segment}}")],
        w=16,
        unit="percentunit",
        minmax=(0, 1),
    )
    b.availability(
        "30 天可用率 Availability, 30 days",
        "segment:govnet_unit_availability:ratio_30d",
        "{{segment}}",
        decimals=2,
        w=8,
        h=8,
    )
    b.row("按汇聚节点（区县） By aggregation node (district / county)")
    by_parent = (
        f'avg by (parent) (max by (segment, unit) (govnet_unit_up{{segment=~"$segment"}}) * on (unit) group_left (parent) '
        f'max by (unit, parent) (govnet_unit_info{{kind!~"{NODE_KINDS}"}})) * on (parent) group_left (parent_name) {PARENT_NAMES}'
    )
    b.availability(
        "各汇聚节点可用率 Availability by aggregation node ($segment)",
        by_parent,
        "{{parent_name}}",
        decimals=0,
        w=24,
        h=5,
    )
    grid = (
        f'max by (unit) (govnet_unit_up{{segment=~"$segment"}}) * on (unit) group_left (name, parent) '
        f'max by (unit, name, parent) (govnet_unit_info{{parent=~"$parent", kind!~"{NODE_KINDS}"}})'
    )
    b.stat(
        "$parent 下属单位 Units behind $parent ($segment)",
        [target(grid, "{{name}}")],
        w=24,
        h=8,
        mappings=UP_STATE,
        steps=thresholds((None, "red"), (1, "green")),
        description="One tile per unit: up on every selected segment, or down / unreachable on at least one.",
    )
    b.row("当前异常 Not up now")
    not_up = f'max by (segment, unit, state) (govnet_unit_state{{state=~"down|unreachable"}}) {JOIN}'
    since = 'time() - max by (segment, unit) (govnet_unit_state_since_timestamp_seconds) and on (segment, unit) govnet_unit_state{state=~"down|unreachable"}'
    b.table(
        "中断或不可达单位 Units down or unreachable",
        [rows(not_up), rows(since)],
        h=8,
        hide=["Value #A"],
        rename={"Value #B": "for (s)"},
        no_value="every unit is up",
    )
    b.table(
        "当前告警 Firing alerts",
        [rows('ALERTS{alertname=~"Govnet.+", alertstate="firing"}')],
        h=8,
        hide=["Value", "alertstate"],
        no_value="no govnet alert firing",
    )
    compliance(b)
    not_yet_built(b)
    b.row("监测程序 The prober")
    b.timeseries(
        "各探测距上次完成秒数 Seconds since each probe's last cycle",
        [target("time() - govnet_probe_last_cycle_timestamp_seconds", "{{probe}} {{segment}}")],
        unit="s",
    )
    b.timeseries(
        "探测周期耗时 Cycle duration",
        [target("govnet_probe_duration_seconds", "{{probe}} {{segment}}")],
        unit="s",
    )
    return b


def compliance(b: Board) -> None:
    """The drift check's row: how much of the city is configured as intended, and who is not."""
    b.row("配置合规 Configuration compliance")
    b.availability(
        "合规比例 Compliant",
        "avg by (segment) (max by (segment, unit) (govnet_config_compliant))",
        "{{segment}}",
        decimals=1,
        w=8,
        description="Share of checked units whose running config matches the intent for the segment "
        "(units that could not be read are left out: see 'not readable').",
    )
    b.count(
        "偏离行数（按部分） Drifted lines by part",
        "sum by (kind) (max by (unit, kind) (govnet_config_drift_lines))",
        "{{kind}}",
        w=8,
        description="security-baseline and party-isolation drift is a critical alert, access a warning.",
    )
    b.stat(
        "无法读取 / 距上次检查小时数 Not readable / hours since the last check",
        [
            target("count(max by (unit) (govnet_config_check_success) == 0) or vector(0)", "not readable"),
            target("(time() - min(govnet_config_last_check_timestamp_seconds)) / 3600", "oldest check (h)"),
        ],
        w=8,
        decimals=1,
        steps=COUNT_WARN,
    )
    drifted = (
        "max by (unit, kind) (govnet_config_drift_lines > 0) * on (unit) group_left (name, parent) "
        f'max by (unit, name, parent) (govnet_unit_info{{kind!~"{NODE_KINDS}"}})'
    )
    b.table(
        "配置偏离的单位 Units with config drift (govnet config drift UNIT says what and who)",
        [rows(drifted)],
        h=8,
        rename={"Value": "lines", "kind": "part"},
        no_value="every checked unit is compliant",
    )
