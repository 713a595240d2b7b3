"""Alertmanager routes and receivers for the inventory's contacts (``govnet/inventory/contacts.py``).

Each contact is one receiver, ``contact-<id>``, holding every channel Alertmanager can drive
itself (``wechat_configs`` for WeChat Work, ``email_configs``) and one ``webhook_configs`` entry
to govnet's alert bridge for the channels it cannot (DingTalk robots, which want a signed request,
and SMS gateways): ``<bridge>/notify/<id>``, the bridge looking the channels up in the same
inventory, so their secrets never pass through Alertmanager.

The contact routes come first under the root and all carry ``continue: true``: an alert that
reaches a unit's contact goes on to the on-call's routes below as before. They group by alert and
unit (a unit down on three segments is one message for the person who looks after it) and keep the
root's timings; inhibition is global in Alertmanager, so a unit behind a failed node stays silent
for its contact as for the on-call.

Alertmanager 0.25 reads a WeChat Work secret only inline (``api_secret``; no ``_file`` form), so
the export resolves that reference and the CLI writes such a configuration only to a 0600 file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from govnet.errors import ConfigError
from govnet.inventory.contacts import Reach, reach
from govnet.inventory.models import Contact, Inventory

GOVNET = 'alertname=~"Govnet.+"'
CONTACT_GROUP_BY = ["alertname", "unit"]
DEFAULT_BRIDGE = "http://127.0.0.1:9432"
EMAIL_TEMPLATES = {
    "headers": {"Subject": '{{ template "govnet.email.subject" . }}'},
    "html": '{{ template "govnet.email.html" . }}',
    "text": '{{ template "govnet.email.text" . }}',
}
WECHAT_MESSAGE = '{{ template "govnet.wechat.message" . }}'

Resolve = Callable[[str], str]
"""A secret reference → its value (``SecretResolver.resolve``)."""


def receiver_name(contact: str) -> str:
    """
    >>> receiver_name("fgw-it")
    'contact-fgw-it'
    """
    return f"contact-{contact}"


def routes_for(found: Reach) -> list[dict[str, Any]]:
    """The routes of one contact: all of govnet's alerts, or those of its elements (by ``unit``)
    and of its segments (minus its elements', which the first route already sends).

    >>> routes_for(Reach("a", segments=("party",), elements=("u1", "u2")))[1]["matchers"]
    ['alertname=~"Govnet.+"', 'segment=~"party"', 'unit!~"u1|u2"']
    """
    base: dict[str, Any] = {
        "receiver": receiver_name(found.contact),
        "group_by": list(CONTACT_GROUP_BY),
        "continue": True,
    }
    if found.everything:
        return [{**base, "matchers": [GOVNET]}]
    matchers: list[list[str]] = []
    units = "|".join(found.elements)
    if found.elements:
        matchers.append([GOVNET, f'unit=~"{units}"'])
    if found.segments:
        on_segments = [GOVNET, f'segment=~"{"|".join(found.segments)}"']
        matchers.append([*on_segments, f'unit!~"{units}"'] if found.elements else on_segments)
    return [{**base, "group_by": list(CONTACT_GROUP_BY), "matchers": m} for m in matchers]


def contact_routes(inventory: Inventory) -> list[dict[str, Any]]:
    return [route for found in reach(inventory) for route in routes_for(found)]


def contact_receivers(
    inventory: Inventory, bridge_url: str, resolve: Resolve, bridge_token_file: str | None = None
) -> list[dict[str, Any]]:
    return [
        receiver(found.contact, inventory.contacts[found.contact], bridge_url, resolve, bridge_token_file)
        for found in reach(inventory)
    ]


def receiver(
    ident: str, contact: Contact, bridge_url: str, resolve: Resolve, bridge_token_file: str | None = None
) -> dict[str, Any]:
    """One contact's receiver: every channel of theirs, each notified of the resolution too."""
    entry: dict[str, Any] = {"name": receiver_name(ident)}
    if contact.wechat is not None:
        wechat = contact.wechat
        config: dict[str, Any] = {
            "send_resolved": True,
            "corp_id": wechat.corp_id,
            "agent_id": str(wechat.agent_id),
            "api_secret": _secret(ident, resolve, wechat.secret),
            "message": WECHAT_MESSAGE,
            "message_type": "text",
        }
        if wechat.to_user is not None:
            config["to_user"] = wechat.to_user
        if wechat.to_party is not None:
            config["to_party"] = wechat.to_party
        entry["wechat_configs"] = [config]
    if contact.email is not None:
        entry["email_configs"] = [{"to": contact.email, "send_resolved": True, **EMAIL_TEMPLATES}]
    if contact.dingtalk is not None or contact.sms is not None:
        url = f"{bridge_url.rstrip('/')}/notify/{ident}"
        hook: dict[str, Any] = {"url": url, "send_resolved": True}
        if bridge_token_file is not None:  # read by Alertmanager itself: the token stays out of the file
            hook["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": bridge_token_file}}
        entry["webhook_configs"] = [hook]
    return entry


def _secret(ident: str, resolve: Resolve, reference: str) -> str:
    try:
        return resolve(reference)
    except ConfigError as exc:
        raise ConfigError(f"contact {ident}: wechat.secret: {exc}") from None


def needs(inventory: Inventory) -> set[str]:
    """The channels the contacts that get alerts use (``wechat``, ``email``, ``dingtalk``, ``sms``)."""
    return {c for found in reach(inventory) for c in inventory.contacts[found.contact].channels}


def wechat_secrets(inventory: Inventory) -> list[str]:
    """The contacts (ids) whose receiver carries a WeChat Work secret."""
    return [f.contact for f in reach(inventory) if inventory.contacts[f.contact].wechat is not None]
