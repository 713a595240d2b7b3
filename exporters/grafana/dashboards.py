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

from exporters.grafana.board import (
    AVAILABILITY,
    COUNT_WARN,
    OPER_STATUS,
    UP_STATE,
    Board,
    rows,
    target,
    thresholds,
)

HERE = Path(__file__).resolve().parent
NODE_KINDS = "core|aggregation|carrier"

INFO = "max by (unit, name, kind, parent) (govnet_unit_info)"
"""The inventory facts, one series per element (several shards export the same nodes)."""

JOIN = f"* on (unit) group_left (name, kind, parent) {INFO}"

PARENT_NAMES = (
    'max by (parent, parent_name) (label_replace(label_replace(max by (unit, name) (govnet_unit_info{kind="aggregation"}),'
    ' "parent", "$1", "unit", "(.+)"), "parent_name", "$1", "name", "(.+)"))'
)
"""Aggregation nodes renamed so their id is a ``parent`` label and their name ``parent_name``."""


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


NOT_BUILT_STEPS = thresholds((None, "green"), (1, "blue"))
"""Construction still to do is neither good nor bad: blue, not the orange / red of a fault."""
BUILT_STATE = [
    {"type": "value", "options": {"0": {"text": "已建 built", "color": "green", "index": 0}}},
    {"type": "value", "options": {"1": {"text": "未建 not yet built", "color": "blue", "index": 1}}},
]


def not_yet_built(b: Board) -> None:
    """Pending rollout, apart from drift: the units whose part for a segment govnet never applied
    (govnet_config_pending), as `govnet report construction` counts them."""
    b.count(
        "未建单位 Units not yet built",
        "sum by (segment) (max by (segment, unit) (govnet_config_pending) * on (unit) group_left () "
        f'max by (unit) (govnet_unit_info{{kind!~"{NODE_KINDS}"}}))',
        "{{segment}}",
        w=8,
        steps=NOT_BUILT_STEPS,
        description="Units (not nodes) whose part for the segment govnet has never applied and that do "
        "not hold it: pending rollout, not drift (no alert); `govnet report construction` counts the same.",
    )
    b.count(
        "未建行数（按部分） Lines not yet built by part",
        "sum by (kind) (max by (unit, kind) (govnet_config_pending_lines))",
        "{{kind}}",
        w=16,
        steps=NOT_BUILT_STEPS,
        description="Lines (missing + extra) of the parts still to roll out, city-wide.",
    )


def unit_not_yet_built(b: Board) -> None:
    """The unit's parts still to roll out: per segment, and lines per part."""
    b.stat(
        "未建网络 Segments not yet built",
        [target('max by (segment) (govnet_config_pending{unit="$unit"})', "{{segment}}")],
        w=12,
        mappings=BUILT_STATE,
        steps=NOT_BUILT_STEPS,
        description="A segment govnet has never applied to the unit (pending rollout, not drift).",
    )
    b.count(
        "未建部分行数 Lines not yet built by part",
        'max by (kind) (govnet_config_pending_lines{unit="$unit"})',
        "{{kind}}",
        w=12,
        steps=NOT_BUILT_STEPS,
        description="Lines (missing + extra) per part govnet has never applied to the unit.",
    )


def unit_detail() -> Board:
    b = Board(
        "govnet-unit",
        "govnet — 单位详情 Unit detail",
        "One unit (or node): state per segment, ICMP round-trip time and loss, monitored interfaces, "
        "traffic, reboots, and where the path breaks when it is down.",
        ["unit"],
    )
    b.variable("unit", "Unit", "label_values(govnet_unit_info, unit)")
    b.table(
        "台账 Inventory",
        [rows('max by (unit, name, kind, parent, wave) (govnet_unit_info{unit="$unit"})')],
        w=12,
        h=4,
        hide=["Value"],
    )
    b.availability(
        "1 天可用率 Availability, 1 day",
        'segment_unit:govnet_unit_availability:ratio_1d{unit="$unit"}',
        "{{segment}}",
        decimals=2,
        w=6,
    )
    b.availability(
        "30 天可用率 Availability, 30 days",
        'segment_unit:govnet_unit_availability:ratio_30d{unit="$unit"}',
        "{{segment}}",
        decimals=2,
        w=6,
    )
    b.timeline(
        "各网络状态 State per segment",
        [target('max by (segment) (govnet_unit_up{unit="$unit"})', "{{segment}}")],
        w=24,
        h=5,
        mappings=UP_STATE,
    )
    b.table(
        "断点位置 Where the path breaks",
        [rows('max by (segment, hop, hops) (govnet_unit_path_last_hop_info{unit="$unit"})')],
        w=24,
        h=4,
        hide=["Value"],
        rename={"hop": "last answering hop", "hops": "hop number"},
        no_value="the unit answers (no path localisation)",
        description="While the unit is down: the last hop that still answers TTL-limited echoes.",
    )
    b.timeseries(
        "往返时延 Round-trip time",
        [target('avg by (segment) (govnet_icmp_rtt_seconds{unit="$unit"})', "{{segment}}")],
        unit="s",
    )
    b.timeseries(
        "丢包率 Packet loss",
        [target('avg by (segment) (govnet_icmp_packet_loss_ratio{unit="$unit"})', "{{segment}}")],
        unit="percentunit",
        minmax=(0, 1),
    )
    b.timeline(
        "端口状态 Interfaces (ifOperStatus)",
        [target('max by (ifname) (govnet_snmp_if_oper_status{unit="$unit"})', "{{ifname}}")],
        mappings=OPER_STATUS,
    )
    traffic = [
        target('8 * rate(govnet_snmp_if_in_octets_total{unit="$unit"}[$__rate_interval])', "{{ifname}} in"),
        target(
            '-8 * rate(govnet_snmp_if_out_octets_total{unit="$unit"}[$__rate_interval])', "{{ifname}} out"
        ),
    ]
    b.timeseries("流量 Traffic", traffic, unit="bps")
    b.count(
        "重启次数 Reboots seen",
        'max(govnet_device_reboots_total{unit="$unit"})',
        "reboots",
        w=8,
        steps=COUNT_WARN,
        no_value="0",
        description="Reboots the daemon counted since it started (sysUpTime went back, coldStart).",
    )
    b.timeseries(
        "设备运行时间 Device uptime",
        [target('govnet_snmp_uptime_seconds{unit="$unit"}', "sysUpTime")],
        w=16,
        h=4,
        unit="s",
    )
    unit_not_yet_built(b)
    return b


def rollout() -> Board:
    b = Board(
        "govnet-rollout",
        "govnet — 外网迁移进度 Rollout progress (extranet waves)",
        "Progress of the extranet migration, wave by wave: how many of each wave's units answer on the "
        "extranet, following the waves of the inventory (govnet_unit_info's `wave` label) and what the "
        "probes see. Rollout runs (`govnet rollout apply` / `rollback`, read by the daemon from its state "
        "store) are marked on the graphs when they start and end; the newest run per segment is "
        "summarised below.",
        ["rollout"],
    )
    for name, metric, color in (
        ("Rollout started", "govnet_rollout_last_start_timestamp_seconds", "rgba(255, 152, 48, 1)"),
        ("Rollout ended", "govnet_rollout_last_end_timestamp_seconds", "rgba(115, 191, 105, 1)"),
    ):
        b.annotation(
            name,
            f"max by (segment, kind, run) ({metric}) * 1000",
            "{{kind}} {{run}} on {{segment}}: " + name.split()[1],
            color=color,
            tags="segment,kind",
        )
    b.variable("wave", "Wave", 'label_values(govnet_unit_info{wave!=""}, wave)')
    in_wave = 'max by (unit, wave) (govnet_unit_info{wave!=""})'
    up_ext = 'max by (unit) (govnet_unit_up{segment="extranet"})'
    b.bargauge("每批单位数 Units per wave", [target(f"count by (wave) ({in_wave})", "wave {{wave}}")], w=8)
    b.bargauge(
        "每批外网在线 Up on the extranet per wave",
        [target(f"sum by (wave) ({up_ext} * on (unit) group_left (wave) {in_wave})", "wave {{wave}}")],
        w=8,
    )
    share = f"sum by (wave) ({up_ext} * on (unit) group_left (wave) {in_wave}) / count by (wave) ({in_wave})"
    b.bargauge(
        "每批外网在线比例 Share of the wave up on the extranet",
        [target(share, "wave {{wave}}")],
        w=8,
        unit="percentunit",
        minmax=(0, 1),
        steps=AVAILABILITY,
    )
    b.timeseries(
        "外网在线 / 监测单位 Extranet units up / watched",
        [
            target('sum(govnet_segment_units{segment="extranet", state="up"})', "up"),
            target('sum(govnet_segment_units{segment="extranet"})', "watched"),
        ],
        w=24,
    )
    b.bargauge(
        "最近一次下发：结果分布 Newest rollout run: units per result",
        [target("max by (segment, kind, result) (govnet_rollout_units)", "{{segment}} {{kind}}: {{result}}")],
        w=12,
    )
    b.count(
        "正在下发 Rollout running now",
        "max by (segment, kind) (govnet_rollout_running)",
        "{{segment}} {{kind}}",
        w=12,
        steps=COUNT_WARN,
        description="1 while govnet rollout apply / rollback is changing units of the segment.",
    )
    units = f'{up_ext} * on (unit) group_left (name, parent, wave) max by (unit, name, parent, wave) (govnet_unit_info{{wave="$wave"}})'
    b.table(
        "第 $wave 批外网单位 Units of wave $wave on the extranet",
        [rows(units)],
        h=10,
        rename={"Value": "up"},
        mappings=UP_STATE,
    )
    return b


def isolation() -> Board:
    b = Board(
        "govnet-isolation",
        "govnet — 党务网隔离 Party network isolation",
        "The party network (党务网) must not reach, nor be reached from, the other segments and the "
        "management network (probes/isolation.yml). A check passes when the address does NOT answer.",
        ["party", "isolation"],
    )
    b.count(
        "当前隔离突破 Isolation breaches now",
        "count(govnet_isolation_ok == 0) or vector(0)",
        "breaches",
        w=6,
    )
    b.stat(
        "隔离检查 Isolation checks",
        [target("count(govnet_isolation_ok)", "checks")],
        w=6,
        steps=thresholds((None, "blue")),
    )
    b.availability(
        "党务网可用率 Party network availability",
        'segment:govnet_unit_availability:ratio{segment="party"}',
        "party",
        decimals=1,
        w=6,
    )
    b.count(
        "省级上联 Provincial uplink",
        'max(ALERTS{alertname="GovnetProvincialUplinkDown", alertstate="firing"}) or vector(0)',
        "uplink",
        w=6,
        mappings=[
            {
                "type": "value",
                "options": {
                    "0": {"text": "no alert", "color": "green"},
                    "1": {"text": "DOWN", "color": "red"},
                },
            }
        ],
        description="GovnetProvincialUplinkDown: the interconnect to the provincial party network.",
    )
    breaches = f"max by (vantage, segment, unit) (govnet_isolation_ok == 0) {JOIN}"
    b.table(
        "隔离突破 Breaches",
        [rows(breaches)],
        h=6,
        hide=["Value"],
        no_value="isolation holds everywhere",
    )
    b.timeseries(
        "未通过的隔离检查 Failed isolation checks by vantage and address kind",
        [target("sum by (vantage, segment) (1 - govnet_isolation_ok)", "{{vantage}} → {{segment}}")],
        w=12,
        decimals=0,
    )
    b.timeseries(
        "党务网单位状态 Party units per state",
        [target('sum by (state) (govnet_segment_units{segment="party"})', "{{state}}")],
        w=12,
        decimals=0,
    )
    b.timeseries(
        "距上次隔离检查 Seconds since the last isolation cycle",
        [
            target(
                'time() - max by (segment) (govnet_probe_last_cycle_timestamp_seconds{probe="isolation"})',
                "{{segment}}",
            )
        ],
        w=24,
        h=6,
        unit="s",
    )
    return b


HEALTH_STATE = [
    {
        "type": "value",
        "options": {
            "0": {"text": "failed", "color": "red", "index": 0},
            "1": {"text": "ok", "color": "green", "index": 1},
        },
    }
]


def health() -> Board:
    """Device health (#17): the health probe's series (govnet/probes/health/collector.py) and the
    records of exporters/prometheus/govnet-health.rules.yml."""
    b = Board(
        "govnet-health",
        "govnet — device health",
        "Per device: CPU, memory, temperature, fans, the uplinks' optics against their transceiver's "
        "thresholds, interface errors and utilisation; city-wide: the busiest and hottest devices.",
        ["health"],
    )
    b.variable("unit", "Unit", "label_values(govnet_device_cpu_ratio, unit)")
    b.table(
        "Installed (ENTITY-MIB)",
        [rows('max by (unit, vendor, model, serial, hw_rev, sw_rev) (govnet_device_info{unit="$unit"})')],
        w=24,
        h=4,
        hide=["Value"],
    )
    b.timeseries(
        "CPU",
        [target('max by (entity) (govnet_device_cpu_ratio{unit="$unit"})', "{{entity}}")],
        w=8,
        unit="percentunit",
        minmax=(0, 1),
    )
    b.timeseries(
        "Memory",
        [target('max by (entity) (govnet_device_memory_ratio{unit="$unit"})', "{{entity}}")],
        w=8,
        unit="percentunit",
        minmax=(0, 1),
    )
    b.timeseries(
        "Temperature",
        [target('max by (sensor) (govnet_device_temperature_celsius{unit="$unit"})', "{{sensor}}")],
        w=8,
        unit="celsius",
    )
    b.timeline(
        "Fans",
        [target('min by (fan) (govnet_device_fan_ok{unit="$unit"})', "{{fan}}")],
        w=24,
        h=4,
        mappings=HEALTH_STATE,
    )
    optics = [
        target('max by (ifname) (govnet_optics_rx_power_dbm{unit="$unit"})', "{{ifname}} rx"),
        target(
            'max by (ifname) (govnet_optics_rx_power_low_dbm{unit="$unit"})',
            "{{ifname}} rx low alarm",
            ref="B",
        ),
        target('max by (ifname) (govnet_optics_tx_power_dbm{unit="$unit"})', "{{ifname}} tx", ref="C"),
    ]
    b.timeseries("Uplink optics (dBm)", optics, unit="dBm")
    b.timeseries(
        "Uplink errors",
        [
            target(
                'sum by (ifname, direction) (rate(govnet_interface_errors_total{unit="$unit"}[$__rate_interval]))',
                "{{ifname}} {{direction}}",
            )
        ],
        unit="pps",
    )
    b.timeseries(
        "Uplink utilisation",
        [
            target(
                'unit_ifname:govnet_interface_utilisation:ratio_rate5m{unit="$unit"}',
                "{{ifname}} {{direction}}",
            )
        ],
        w=24,
        unit="percentunit",
        minmax=(0, 1),
    )
    b.table(
        "Busiest devices (CPU)",
        [rows("topk(10, max by (unit) (govnet_device_cpu_ratio))")],
        w=12,
        h=6,
    )
    b.table(
        "Hottest devices",
        [rows("topk(10, max by (unit) (govnet_device_temperature_celsius))")],
        w=12,
        h=6,
    )
    return b


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
