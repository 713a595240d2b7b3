"""Units not yet built (#15 "pending is not drift"): the overview's count and the unit board's state."""

from __future__ import annotations

from exporters.grafana.board import Board, target, thresholds
from exporters.grafana.joins import NODE_KINDS

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
