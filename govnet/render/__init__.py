"""Rendering: the inventory and the templates in ``configs/`` → each device's intended config.

``render_device`` gives the text and its parts (``baseline``, ``intranet``, ``party``,
``extranet``, ``uplink``); secrets appear only as ``<<secret:REF>>`` placeholders
(``govnet.render.secrets``), resolved at push time.
"""

from govnet.render.engine import (
    MARKER_RE,
    Part,
    Rendered,
    render_device,
    render_element,
    render_inventory,
)

__all__ = ["MARKER_RE", "Part", "Rendered", "render_device", "render_element", "render_inventory"]
