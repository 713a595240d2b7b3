"""Who hears about which alerts: the contacts named by the site, a segment, an element and the
nodes above it.

Contacts are defined once, in the top-level ``contacts:`` section (a person or a duty group and
their channels), and *named* where they are responsible: ``site.contacts`` (every alert),
``segments.S.contacts`` (every alert on segment S), and ``contacts`` of a node or unit, which
groups and ``defaults`` set like any other key. A node's contacts also hear about everything
behind it: a county's network administrator is told about the county's units, as the person
who will drive there. The on-call hears about everything regardless (the export's own routes).

``reach`` folds this into one record per contact, which is what an Alertmanager route needs:
a contact is one receiver, matched by the ``unit`` label (the elements they answer for) or the
``segment`` label, never both for the same alert (so nobody is told twice).
"""

from __future__ import annotations

from dataclasses import dataclass

from govnet.inventory.models import Inventory, Node, Unit


@dataclass(frozen=True)
class Reach:
    """The alerts one contact hears about."""

    contact: str
    everything: bool = False
    """Named by the site: every alert of govnet."""
    segments: tuple[str, ...] = ()
    """Every alert on these segments (except those of ``elements``, already covered)."""
    elements: tuple[str, ...] = ()
    """Every alert whose ``unit`` label is one of these ids (units and nodes)."""


def element_contacts(inventory: Inventory, element: Node | Unit) -> list[str]:
    """The element's contacts, then those of the nodes above it, nearest first, each once.

    >>> from govnet.inventory.loader import load
    >>> inv = load("tests/data/valid/contacts.yml").inventory
    >>> element_contacts(inv, inv.unit("sz-fagaiwei"))
    ['fgw-it', 'party-security', 'shizhi-noc']
    """
    names: list[str] = []
    for holder in (element, *inventory.parent_chain(element.id)):
        for name in holder.contacts or []:
            if name not in names:
                names.append(name)
    return names


def reach(inventory: Inventory) -> list[Reach]:
    """One record per contact named anywhere, in the order of the ``contacts:`` section.

    >>> from govnet.inventory.loader import load
    >>> for r in reach(load("tests/data/valid/contacts.yml").inventory):
    ...     print(r.contact, r.everything, r.segments, r.elements)
    noc True () ()
    party-security False ('party',) ('sz-fagaiwei',)
    fgw-it False () ('sz-fagaiwei',)
    shizhi-noc False () ('agg-shizhi', 'sz-fagaiwei')
    """
    site = set(inventory.site.contacts or [])
    segments: dict[str, list[str]] = {}
    for segment, plan in inventory.segments.items():
        for name in plan.contacts or []:
            segments.setdefault(name, []).append(segment)
    elements: dict[str, list[str]] = {}
    everyone: list[Node | Unit] = [*inventory.nodes, *inventory.units]
    for element in everyone:
        for name in element_contacts(inventory, element):
            elements.setdefault(name, []).append(element.id)
    out: list[Reach] = []
    for name in inventory.contacts:
        if name in site:
            out.append(Reach(name, everything=True))
        elif name in segments or name in elements:
            out.append(
                Reach(name, False, tuple(segments.get(name, ())), tuple(sorted(elements.get(name, ()))))
            )
    return out


def named(inventory: Inventory) -> list[tuple[tuple[int | str, ...], str]]:
    """Every place a contact is named, as (path of the name, name): for the reference check."""
    found: list[tuple[tuple[int | str, ...], str]] = []
    found += [(("site", "contacts", i), n) for i, n in enumerate(inventory.site.contacts or [])]
    for segment, plan in inventory.segments.items():
        found += [(("segments", segment, "contacts", i), n) for i, n in enumerate(plan.contacts or [])]
    for key, elements in (("nodes", inventory.nodes), ("units", inventory.units)):
        for index, element in enumerate(elements):
            found += [((key, index, "contacts", i), n) for i, n in enumerate(element.contacts or [])]
    return found
