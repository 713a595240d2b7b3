"""The probe kinds govnet ships: one line per kind (what a kind provides: `govnet.probes.kind`).

The daemon, its config loader, its collectors and ``govnet probe`` are *handed* a registry
(`default_kinds()` unless told otherwise), never a global: a test adds a kind of its own with
``default_kinds().with_kind(KIND)``. Adding a kind to govnet is one package under
``govnet/probes/<kind>/`` and one line here.
"""

from __future__ import annotations

from govnet.probes.icmp.kind import KIND as ICMP
from govnet.probes.isolation.kind import KIND as ISOLATION
from govnet.probes.kind import Registry
from govnet.probes.snmp.kind import KIND as SNMP
from govnet.probes.tcp.kind import KIND as TCP


def default_kinds() -> Registry:
    """icmp, snmp, tcp, isolation: in this order in the config's ``probes:`` and the job list."""
    return Registry([ICMP, SNMP, TCP, ISOLATION])
