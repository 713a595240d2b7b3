"""The layout grammar of govnet's Grafana dashboards: panels, targets, variables, thresholds.

Kept apart from the dashboards themselves (dashboards.py) so those read as a list of panels and
their PromQL. Every panel queries the datasource chosen by the ``datasource`` variable, so the
dashboards work with whatever Prometheus Grafana is provisioned with.
"""

from __future__ import annotations

from typing import Any

DS = {"type": "prometheus", "uid": "${datasource}"}
UP_STATE = [
    {"type": "value", "options": {"1": {"text": "up", "color": "green", "index": 0}}},
    {"type": "value", "options": {"0": {"text": "down", "color": "red", "index": 1}}},
]
OPER_STATUS = [
    {
        "type": "value",
        "options": {
            "1": {"text": "up", "color": "green", "index": 0},
            "2": {"text": "down", "color": "red", "index": 1},
            "3": {"text": "testing", "color": "blue", "index": 2},
            "5": {"text": "dormant", "color": "yellow", "index": 3},
            "7": {"text": "lowerLayerDown", "color": "orange", "index": 4},
        },
    }
]


def thresholds(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"value": v, "color": c} for v, c in steps]}


AVAILABILITY = thresholds((None, "red"), (0.8, "orange"), (0.95, "yellow"), (0.999, "green"))
COUNT_BAD = thresholds((None, "green"), (1, "red"))
COUNT_WARN = thresholds((None, "green"), (1, "orange"))


def target(
    expr: str, legend: str = "", *, instant: bool = False, table: bool = False, ref: str = "A"
) -> dict[str, Any]:
    out: dict[str, Any] = {"datasource": DS, "refId": ref, "expr": expr, "legendFormat": legend or "__auto"}
    if instant:
        out.update(instant=True, range=False)
    if table:
        out["format"] = "table"
    return out


def rows(expr: str) -> dict[str, Any]:
    """A table's target: the series of ``expr`` now (an instant query), one row each."""
    return target(expr, instant=True, table=True)


class Board:
    """Panels laid out left to right in rows of 24 grid units."""

    def __init__(self, uid: str, title: str, description: str, tags: list[str]) -> None:
        self.uid, self.title, self.description, self.tags = uid, title, description, tags
        self.panels: list[dict[str, Any]] = []
        self.variables: list[dict[str, Any]] = [
            {
                "name": "datasource",
                "label": "Data source",
                "type": "datasource",
                "query": "prometheus",
                "current": {},
                "hide": 0,
                "refresh": 1,
                "options": [],
            }
        ]
        self.annotations: list[dict[str, Any]] = []
        self.x = self.y = self.row_h = 0

    def annotation(self, name: str, expr: str, title: str, *, color: str, tags: str) -> None:
        """A Prometheus annotation whose series value is the event's time in milliseconds
        (``useValueForTime``): one mark per event, however many samples repeat it."""
        self.annotations.append(
            {
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "enable": True,
                "expr": expr,
                "iconColor": color,
                "name": name,
                "step": "30s",
                "titleFormat": title,
                "tagKeys": tags,
                "useValueForTime": True,
            }
        )

    def variable(self, name: str, label: str, query: str, *, include_all: bool = False) -> None:
        self.variables.append(
            {
                "name": name,
                "label": label,
                "type": "query",
                "datasource": DS,
                "definition": query,
                "query": {"query": query, "refId": f"{name}-variable"},
                "refresh": 2,
                "sort": 1,
                "multi": False,
                "includeAll": include_all,
                **({"allValue": ".*"} if include_all else {}),
                "current": {},
                "options": [],
                "hide": 0,
            }
        )

    def row(self, title: str) -> None:
        self.newline()
        self._add({"type": "row", "title": title, "collapsed": False, "panels": []}, 24, 1)
        self.newline()

    def newline(self) -> None:
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0

    def panel(
        self,
        kind: str,
        title: str,
        targets: list[dict[str, Any]],
        *,
        w: int,
        h: int,
        description: str = "",
        unit: str | None = None,
        minmax: tuple[float, float] | None = None,
        steps: dict[str, Any] | None = None,
        mappings: list[dict[str, Any]] | None = None,
        no_value: str | None = None,
        options: dict[str, Any] | None = None,
        transformations: list[dict[str, Any]] | None = None,
        decimals: int | None = None,
    ) -> None:
        defaults: dict[str, Any] = {}
        if unit:
            defaults["unit"] = unit
        if minmax:
            defaults["min"], defaults["max"] = minmax
        if steps:
            defaults["thresholds"] = steps
            defaults["color"] = {"mode": "thresholds"}
        if mappings:
            defaults["mappings"] = mappings
        if no_value is not None:
            defaults["noValue"] = no_value
        if decimals is not None:
            defaults["decimals"] = decimals
        panel: dict[str, Any] = {
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "targets": [dict(t, refId=chr(ord("A") + i)) for i, t in enumerate(targets)],
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": options or {},
        }
        if transformations:
            panel["transformations"] = transformations
        self._add(panel, w, h)

    def stat(self, title: str, targets: list[dict[str, Any]], *, w: int = 6, h: int = 4, **kw: Any) -> None:
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value_and_name",
            "orientation": "auto",
            "justifyMode": "auto",
        }
        self.panel("stat", title, targets, w=w, h=h, options=options, **kw)

    def count(
        self, title: str, expr: str, legend: str, *, steps: dict[str, Any] = COUNT_BAD, **kw: Any
    ) -> None:
        """A stat of how many things are wrong: green at 0, ``steps`` above (red by default)."""
        self.stat(title, [target(expr, legend)], steps=steps, **kw)

    def availability(self, title: str, expr: str, legend: str, *, decimals: int, **kw: Any) -> None:
        """A stat of a 0..1 availability: shown as a percentage, coloured by ``AVAILABILITY``."""
        self.stat(
            title, [target(expr, legend)], unit="percentunit", decimals=decimals, steps=AVAILABILITY, **kw
        )

    def timeseries(
        self, title: str, targets: list[dict[str, Any]], *, w: int = 12, h: int = 8, **kw: Any
    ) -> None:
        options = {
            "legend": {
                "displayMode": "table",
                "placement": "bottom",
                "showLegend": True,
                "calcs": ["lastNotNull", "max"],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
        self.panel("timeseries", title, targets, w=w, h=h, options=options, **kw)

    def table(
        self,
        title: str,
        targets: list[dict[str, Any]],
        *,
        w: int = 24,
        h: int = 8,
        hide: list[str] | None = None,
        rename: dict[str, str] | None = None,
        **kw: Any,
    ) -> None:
        hidden = {name: True for name in ["Time", "__name__", "job", "instance", *(hide or [])]}
        transformations = [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": hidden, "renameByName": rename or {}}},
        ]
        options = {
            "showHeader": True,
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "fields": ""},
        }
        self.panel("table", title, targets, w=w, h=h, options=options, transformations=transformations, **kw)

    def timeline(
        self, title: str, targets: list[dict[str, Any]], *, w: int = 12, h: int = 8, **kw: Any
    ) -> None:
        options = {
            "showValue": "never",
            "mergeValues": True,
            "rowHeight": 0.8,
            "alignValue": "left",
            "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"},
        }
        self.panel("state-timeline", title, targets, w=w, h=h, options=options, **kw)

    def bargauge(
        self, title: str, targets: list[dict[str, Any]], *, w: int = 12, h: int = 8, **kw: Any
    ) -> None:
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
        }
        self.panel("bargauge", title, targets, w=w, h=h, options=options, **kw)

    def _add(self, panel: dict[str, Any], w: int, h: int) -> None:
        if self.x + w > 24:
            self.newline()
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)

    def json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["govnet", *self.tags],
            "timezone": "browser",
            "editable": True,
            "graphTooltip": 1,
            "schemaVersion": 38,
            "version": 1,
            "refresh": "30s",
            "time": {"from": "now-6h", "to": "now"},
            "timepicker": {},
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "links": [
                {
                    "type": "dashboards",
                    "tags": ["govnet"],
                    "asDropdown": True,
                    "title": "govnet",
                    "includeVars": False,
                    "keepTime": True,
                }
            ],
            "annotations": {
                "list": [
                    {
                        "builtIn": 1,
                        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                        "enable": True,
                        "hide": True,
                        "iconColor": "rgba(0, 211, 255, 1)",
                        "name": "Annotations & Alerts",
                        "type": "dashboard",
                    },
                    *self.annotations,
                ]
            },
            "templating": {"list": self.variables},
            "panels": self.panels,
        }
