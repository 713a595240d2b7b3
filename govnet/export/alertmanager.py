"""An Alertmanager configuration derived from the inventory: routes, receivers, inhibition.

Why generated and not written by hand: Alertmanager's inhibit rules relate a source and a target
alert only through labels of the *same name* holding the same value (``equal``). "Unit U is
behind node N" relates two *different* labels: N's alert has ``unit="N"``, U's alert has
``parent="N"`` (joined from ``govnet_unit_info`` by the rules in exporters/prometheus). No single
hand-written rule can say "source.unit == target.parent"; one rule per node can::

    source_matchers: [alertname="GovnetUnitDown", unit="agg-x"]
    target_matchers: [alertname="GovnetUnitDown", parent=~"agg-x"]
    equal: [segment]

For a node with nodes below it (the core) the target also names those nodes, so a unit two
levels down is inhibited by the core's alert directly. These rules are facts of the topology,
so they are regenerated with it (``govnet export alertmanager``), never edited.

The daemon already resolves units behind a failed node to ``unreachable`` (no alert); the
inhibition is the second line: it covers the cycles in which a unit is judged ``down`` before
its node is, and several daemons (shards) that disagree for a moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from govnet.errors import UsageError
from govnet.export import contacts
from govnet.inventory.models import SEGMENTS, Inventory, Node, Unit

DEFAULT_WEBHOOK = "http://127.0.0.1:5001/govnet"
DEFAULT_TEMPLATES = "templates/*.tmpl"
"""Relative template paths are resolved by Alertmanager against its configuration file's folder."""

UNIT_DOWN = "GovnetUnitDown"
ISOLATION = "GovnetPartyIsolationBreach"
NULL = "null"
"""The receiver that drops alerts not raised by govnet's rules (when the Alertmanager is shared)."""

ROOT_TIMING = {"group_wait": "20s", "group_interval": "5m", "repeat_interval": "4h"}
"""20 s, not the usual 30 s: the daemon has already debounced a unit's state (``down_after``)."""
CRITICAL_TIMING = {"group_wait": "10s", "group_interval": "1m", "repeat_interval": "1h"}
IMMEDIATE_TIMING = {"group_wait": "0s", "group_interval": "1m", "repeat_interval": "30m"}


@dataclass(frozen=True)
class ExportOptions:
    """Where notifications go. Every on-call receiver posts to the webhook; e-mail is optional.
    The inventory's contacts get their own receivers (``govnet/export/contacts.py``)."""

    webhook_url: str = DEFAULT_WEBHOOK
    emails: tuple[str, ...] = ()
    smtp_smarthost: str = "127.0.0.1:25"
    smtp_from: str = "govnet-alerts@localhost"
    smtp_require_tls: bool = False
    templates: tuple[str, ...] = (DEFAULT_TEMPLATES,)
    bridge_url: str = contacts.DEFAULT_BRIDGE
    """govnet's alert bridge (``govnet alert-bridge``), for DingTalk robots and SMS gateways."""
    wechat_api_url: str | None = None
    """WeChat Work's API (Alertmanager's default, https://qyapi.weixin.qq.com/cgi-bin/, if None)."""
    bridge_token_file: str | None = None
    """A file holding the bridge's bearer token (``alert-bridge --token``), read by Alertmanager."""


@dataclass(frozen=True)
class InhibitRule:
    """One inhibit rule and the comment that says why it is there."""

    comment: str
    rule: dict[str, Any] = field(default_factory=dict)


def matcher(name: str, value: str, op: str = "=") -> str:
    """One Alertmanager matcher, its value quoted.

    >>> matcher("unit", "agg-x")
    'unit="agg-x"'
    >>> matcher("parent", "a|b", "=~")
    'parent=~"a|b"'
    """
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}{op}"{escaped}"'


def check_url(url: str, what: str = "--receiver-url") -> str:
    """A webhook URL Alertmanager will accept: http(s) with a host.

    >>> check_url("http://127.0.0.1:5001/govnet")
    'http://127.0.0.1:5001/govnet'
    >>> check_url("127.0.0.1:5001")
    Traceback (most recent call last):
    ...
    govnet.errors.UsageError: --receiver-url: must be an http:// or https:// URL, got '127.0.0.1:5001'
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what}: must be an http:// or https:// URL, got {url!r}")
    return url


def children(inventory: Inventory) -> dict[str, list[Node | Unit]]:
    """Elements by the id of their parent."""
    out: dict[str, list[Node | Unit]] = {}
    elements: list[Node | Unit] = [*inventory.nodes, *inventory.units]
    for element in elements:
        if element.parent is not None:
            out.setdefault(element.parent, []).append(element)
    return out


def below(ident: str, tree: dict[str, list[Node | Unit]]) -> list[Node | Unit]:
    """Every element under ``ident``, breadth first (a parent cycle is not followed)."""
    found: list[Node | Unit] = []
    seen = {ident}
    queue = [ident]
    while queue:
        for child in tree.get(queue.pop(0), []):
            if child.id not in seen:
                seen.add(child.id)
                found.append(child)
                queue.append(child.id)
    return found


def inhibit_rules(inventory: Inventory) -> list[InhibitRule]:
    """Topology rules (one per element with something behind it), then the generic ones."""
    tree = children(inventory)
    rules: list[InhibitRule] = []
    elements: list[Node | Unit] = [*inventory.nodes, *inventory.units]
    parents = [e for e in elements if e.id in tree]
    depth = {e.id: len(inventory.parent_chain(e.id)) for e in parents}
    for element in sorted(parents, key=lambda e: (depth[e.id], e.id)):
        under = below(element.id, tree)
        units = sum(1 for e in under if isinstance(e, Unit))
        # a target's `parent` is this element or any parent below it
        heads = [element.id, *(e.id for e in under if e.id in tree)]
        rules.append(
            InhibitRule(
                f"{element.name} ({element.id}, {element.kind}) down: "
                f"{units} unit(s) and {len(under) - units} node(s) behind it stay silent",
                {
                    "source_matchers": [matcher("alertname", UNIT_DOWN), matcher("unit", element.id)],
                    "target_matchers": [
                        matcher("alertname", UNIT_DOWN),
                        matcher("parent", "|".join(heads), "=~"),
                    ],
                    "equal": ["segment"],
                },
            )
        )
    kinds = node_kinds(inventory)
    rules += [
        InhibitRule(
            "a node down explains its segment's lost availability",
            {
                "source_matchers": [matcher("alertname", UNIT_DOWN), matcher("kind", kinds, "=~")],
                "target_matchers": [matcher("alertname", "GovnetSegmentDegraded")],
                "equal": ["segment"],
            },
        ),
        InhibitRule(
            "a down unit explains its interface, loss and latency alerts",
            {
                "source_matchers": [matcher("alertname", UNIT_DOWN)],
                "target_matchers": [
                    matcher("alertname", "GovnetInterfaceDown|GovnetHighLoss|GovnetHighLatency", "=~")
                ],
                "equal": ["unit"],
            },
        ),
        InhibitRule(
            "the critical degradation of a segment covers its warning",
            {
                "source_matchers": [
                    matcher("alertname", "GovnetSegmentDegraded"),
                    matcher("severity", "critical"),
                ],
                "target_matchers": [
                    matcher("alertname", "GovnetSegmentDegraded"),
                    matcher("severity", "warning"),
                ],
                "equal": ["segment"],
            },
        ),
    ]
    return rules


def node_kinds(inventory: Inventory) -> str:
    """The node kinds of the site as a matcher regex (``aggregation|core``)."""
    return "|".join(sorted({n.kind for n in inventory.nodes})) or "aggregation|core"


def segments_of(inventory: Inventory) -> list[str]:
    return [s for s in SEGMENTS if s in inventory.segments]


def route(inventory: Inventory) -> dict[str, Any]:
    """Isolation breaches first and at once; nodes down (one notification for all their segments);
    then per segment, critical apart; then the rest."""
    govnet = matcher("alertname", "Govnet.+", "=~")
    critical = matcher("severity", "critical")
    routes: list[dict[str, Any]] = [
        {
            "receiver": "govnet-critical",
            "matchers": [matcher("alertname", ISOLATION)],
            "group_by": ["alertname", "vantage", "segment", "unit"],
            **IMMEDIATE_TIMING,
        }
    ]
    routes.append(
        {
            # a node carries every segment: one notification for the node, not one per segment
            "receiver": "govnet-critical",
            "matchers": [matcher("alertname", UNIT_DOWN), matcher("kind", node_kinds(inventory), "=~")],
            "group_by": ["alertname", "unit"],
            **CRITICAL_TIMING,
        }
    )
    for segment in segments_of(inventory):
        routes.append(
            {
                "receiver": f"govnet-{segment}",
                "matchers": [govnet, matcher("segment", segment)],
                "routes": [
                    {"receiver": f"govnet-{segment}-critical", "matchers": [critical], **CRITICAL_TIMING}
                ],
            }
        )
    routes.append(
        {
            "receiver": "govnet",
            "matchers": [govnet],
            "routes": [{"receiver": "govnet-critical", "matchers": [critical], **CRITICAL_TIMING}],
        }
    )
    return {
        "receiver": NULL,
        "group_by": ["alertname", "segment"],
        **ROOT_TIMING,
        "routes": [*contacts.contact_routes(inventory), *routes],
    }


def receiver_names(inventory: Inventory) -> list[str]:
    names = ["govnet", "govnet-critical"]
    for segment in segments_of(inventory):
        names += [f"govnet-{segment}", f"govnet-{segment}-critical"]
    return names


def unresolved(reference: str) -> str:
    """The resolver of a configuration that must not carry secrets (printed, or checked)."""
    raise UsageError(
        "a contact's WeChat Work secret goes into the configuration: write it to a file (--out FILE, mode 0600)"
    )


def receivers(
    inventory: Inventory, options: ExportOptions, resolve: contacts.Resolve = unresolved
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": NULL}]
    for name in receiver_names(inventory):
        entry: dict[str, Any] = {
            "name": name,
            "webhook_configs": [{"url": options.webhook_url, "send_resolved": True}],
        }
        if options.emails:
            entry["email_configs"] = [
                {
                    "to": ", ".join(options.emails),
                    "send_resolved": True,
                    "headers": {"Subject": '{{ template "govnet.email.subject" . }}'},
                    "html": '{{ template "govnet.email.html" . }}',
                    "text": '{{ template "govnet.email.text" . }}',
                }
            ]
        out.append(entry)
    return out + contacts.contact_receivers(inventory, options.bridge_url, resolve, options.bridge_token_file)


def config(
    inventory: Inventory, options: ExportOptions, resolve: contacts.Resolve = unresolved
) -> dict[str, Any]:
    """The whole configuration as data (inhibit rules without their comments). ``resolve``
    turns a contact's WeChat Work secret reference into its value."""
    body: dict[str, Any] = {"global": {"resolve_timeout": "5m"}}
    channels = contacts.needs(inventory)
    if options.emails or "email" in channels:
        body["global"].update(
            smtp_smarthost=options.smtp_smarthost,
            smtp_from=options.smtp_from,
            smtp_require_tls=options.smtp_require_tls,
        )
    if "wechat" in channels and options.wechat_api_url is not None:
        body["global"]["wechat_api_url"] = options.wechat_api_url
    if options.emails or {"email", "wechat"} & channels:
        body["templates"] = list(options.templates)
    body["route"] = route(inventory)
    body["receivers"] = receivers(inventory, options, resolve)
    body["inhibit_rules"] = [r.rule for r in inhibit_rules(inventory)]
    return body


def render(
    inventory: Inventory, options: ExportOptions, source: str, resolve: contacts.Resolve = unresolved
) -> str:
    """alertmanager.yml as text: the configuration, each inhibit rule under its reason."""
    check_url(options.webhook_url)
    check_url(options.bridge_url, "--bridge-url")
    if options.wechat_api_url is not None:
        check_url(options.wechat_api_url, "--wechat-api-url")
    body = config(inventory, options, resolve)
    rules = inhibit_rules(inventory)
    del body["inhibit_rules"]
    header = [
        f"# Alertmanager configuration for {inventory.site.name} ({inventory.site.slug}),",
        f"# generated by `govnet export alertmanager` from {source}.",
        "# Do not edit: regenerate when the inventory changes (the inhibit rules follow its topology).",
        "",
    ]
    text = "\n".join(header) + _dump(body) + "\ninhibit_rules:\n"
    for rule in rules:
        text += f"  # {rule.comment}\n" + _indent(_dump([rule.rule]), "  ")
    return text


class _Dumper(yaml.SafeDumper):
    """Writes a value shared by several receivers in full each time: no ``&id001`` anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: Any) -> str:
    # PyYAML quotes the string "null" (else YAML null, refused as a receiver name).
    return str(
        yaml.dump(
            data,
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            width=1000,
            default_flow_style=False,
        )
    )


def _indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(keepends=True))
