"""The rollout board: runs, their units and results."""

from __future__ import annotations

from exporters.grafana.board import AVAILABILITY, COUNT_WARN, UP_STATE, Board, rows, target


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
