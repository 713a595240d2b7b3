"""PromQL pieces every board shares: the inventory facts (``govnet_unit_info``) joined onto a series."""

from __future__ import annotations

NODE_KINDS = "core|aggregation|carrier"

INFO = "max by (unit, name, kind, parent) (govnet_unit_info)"
"""The inventory facts, one series per element (several shards export the same nodes)."""

JOIN = f"* on (unit) group_left (name, kind, parent) {INFO}"

PARENT_NAMES = (
    'max by (parent, parent_name) (label_replace(label_replace(max by (unit, name) (govnet_unit_info{kind="aggregation"}),'
    ' "parent", "$1", "unit", "(.+)"), "parent_name", "$1", "name", "(.+)"))'
)
"""Aggregation nodes renamed so their id is a ``parent`` label and their name ``parent_name``."""
