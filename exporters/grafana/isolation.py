"""The isolation board: the party network's negative probes and breaches."""

from __future__ import annotations

from exporters.grafana.board import Board, rows, target, thresholds
from exporters.grafana.joins import JOIN


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
