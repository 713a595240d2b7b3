"""The unit board: one unit (or node) in detail."""

from __future__ import annotations

from exporters.grafana.board import COUNT_WARN, OPER_STATUS, UP_STATE, Board, rows, target
from exporters.grafana.pending import unit_not_yet_built


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
