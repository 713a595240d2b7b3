"""The probe kinds govnet ships: one line per kind.

A kind (`govnet.probes.kind.Kind`, one package ``govnet/probes/<kind>/``) provides: its name;
its settings as one strict pydantic model (the config's ``probes.<name>`` block embeds it, plus
``interval`` and ``enabled``); its default interval; ``make`` (settings → probe); its target
rule (``addresses``, ``services``, ``devices``, ``isolation``: also its jobs); its ``empty``
snapshot part and ``record`` (part, segment, results, unit states → new part, events,
transitions); ``collector`` (part → prometheus-client Collector) and optionally ``success``
(its ``govnet_probe_success`` samples), ``prepare``, ``prune``, ``batch`` and ``opt_in``.

The daemon, its config loader, its collectors and ``govnet probe`` are *handed* a registry
(`default_kinds()` unless told otherwise), never a global: a test adds a kind of its own with
``default_kinds().with_kind(KIND)``. Adding a kind to govnet is one package under
``govnet/probes/<kind>/`` and one line here.
"""

from __future__ import annotations

from govnet.probes.health.kind import KIND as HEALTH
from govnet.probes.icmp.kind import KIND as ICMP
from govnet.probes.isolation.kind import KIND as ISOLATION
from govnet.probes.kind import Registry
from govnet.probes.snmp.kind import KIND as SNMP
from govnet.probes.tcp.kind import KIND as TCP


def default_kinds() -> Registry:
    """icmp, snmp, tcp, isolation, health: in this order in the config's ``probes:`` and the job list."""
    return Registry([ICMP, SNMP, TCP, ISOLATION, HEALTH])
