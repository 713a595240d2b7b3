"""The device health board (#17)."""

from __future__ import annotations

from exporters.grafana.board import Board, rows, target

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
