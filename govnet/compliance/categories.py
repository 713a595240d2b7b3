"""Drift categories: which part of a device's intended configuration a drifted line belongs to.

Every rendered template is a *part* with a kind (``# govnet part KIND TEMPLATE`` markers, see
``govnet.render.engine``); the category of a drifted line is read from the kind of the part it
is in, so the mapping is one table here rather than patterns over command text:

========== ================= ===========================================================
part kind  category          why
========== ================= ===========================================================
baseline   security-baseline SSH only, AAA, SNMPv3, syslog, NTP, management ACL (baseline.j2)
party      party-isolation   the PARTY VRF, its interface and the isolation ACL (party.j2)
uplink     party-isolation   the provincial interconnect of the party network (uplink.j2)
intranet   access            the unit's intranet VLAN interface and VRF (intranet.j2)
extranet   access            the unit's extranet access, per wave (extranet.j2)
========== ================= ===========================================================
"""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = ("security-baseline", "party-isolation", "access")
"""Every category, in the order reports list them."""
CRITICAL: frozenset[str] = frozenset({"security-baseline", "party-isolation"})
"""Categories whose drift is a critical alert (the city's security rules); the rest warn."""
BY_KIND: dict[str, str] = {
    "baseline": "security-baseline",
    "party": "party-isolation",
    "uplink": "party-isolation",
    "intranet": "access",
    "extranet": "access",
}


def category(kind: str) -> str:
    """The drift category of a part kind; a kind this table does not know is a bug.

    >>> category("uplink")
    'party-isolation'
    >>> category("extranet")
    'access'
    """
    try:
        return BY_KIND[kind]
    except KeyError:
        raise ValueError(f"part kind '{kind}' has no drift category (govnet.compliance.categories)") from None


def by_category(kinds: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """(missing, extra) per part kind → per category, every category present.

    >>> by_category({"baseline": (1, 0), "party": (2, 1), "uplink": (0, 1)})
    {'security-baseline': (1, 0), 'party-isolation': (2, 2), 'access': (0, 0)}
    """
    out = dict.fromkeys(CATEGORIES, (0, 0))
    for kind, (missing, extra) in kinds.items():
        name = category(kind)
        was = out[name]
        out[name] = (was[0] + missing, was[1] + extra)
    return out
