"""From the site to probe targets, per probe kind and segment.

Every target passes the ``allowed_networks`` gate here, before any probe sees it: the daemon
never sends a packet outside them, whatever the inventory says.

ICMP targets are the same objects cycle after cycle (built once per site, then reused): at
10,000 units a cycle would otherwise allocate 30,000 of them, and the results keep them alive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from govnet.errors import ConfigError, GovnetError
from govnet.monitor.config import DaemonConfig
from govnet.monitor.site import WatchedElement, WatchedSite
from govnet.probes.base import Target
from govnet.probes.kind import DeviceFacts

NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
"""One shared empty ``params`` for the ICMP targets (30,000 empty dicts at 10,000 units otherwise)."""


@dataclass
class TargetSet:
    targets: list[Target] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Targets outside ``allowed_networks``, as ``unit/segment ADDRESS`` (never probed)."""


def elements(site: WatchedSite, owned: set[str] | frozenset[str]) -> list[WatchedElement]:
    """Nodes (always: units' states depend on them) and the units this daemon owns."""
    return [*site.nodes, *(u for u in site.units if u.id in owned)]


def icmp_targets(
    config: DaemonConfig, site: WatchedSite, owned: set[str] | frozenset[str], segment: str
) -> TargetSet:
    found = [
        Target(e.id, segment, e.segments[segment].address, params=NO_PARAMS)
        for e in elements(site, owned)
        if segment in e.segments
    ]
    return gate(config, found)


def snmp_targets(
    config: DaemonConfig,
    site: WatchedSite,
    owned: set[str] | frozenset[str],
    resolve: Callable[[str], str],
    facts: Callable[[DeviceFacts], Mapping[str, Any]] | None = None,
) -> TargetSet:
    """One target per SNMP-polled device; ``facts``: the kind's params from the inventory (a
    ``devices`` kind's ``device_params``), added to the access params."""
    found = []
    shared: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for element in elements(site, owned):
        snmp = element.snmp
        if snmp is None:
            continue
        params: dict[str, Any] = {"interfaces": element.interfaces}
        try:
            if snmp.version == "v2c":
                params.update(version="v2c", community=resolve(snmp.community or ""))
            else:
                params.update(
                    version="v3",
                    user=snmp.user,
                    auth_protocol=snmp.auth_protocol,
                    auth_key=resolve(snmp.auth_key or ""),
                    priv_protocol=snmp.priv_protocol,
                    priv_key=resolve(snmp.priv_key or ""),
                )
        except GovnetError as exc:  # name whose secret it is: the inventory holds only the reference
            where = f"{config.inventory}: {element.id}: device {element.device}: snmp"
            raise ConfigError(f"{where}: {next(iter(exc.lines()))}") from None
        if facts is not None:
            params.update(facts(element))
        key = tuple(sorted(params.items()))  # devices alike share one (read-only) params mapping
        found.append(
            Target(
                element.id,
                "management",
                element.host,
                161,
                params=shared.setdefault(key, MappingProxyType(params)),
            )
        )
    return gate(config, found)


def tcp_targets(
    config: DaemonConfig, site: WatchedSite, owned: set[str] | frozenset[str], segment: str
) -> TargetSet:
    found = []
    for unit in site.units:
        if unit.id not in owned or segment not in unit.segments:
            continue
        for service in unit.services:
            if service.segment == segment:
                host = service.host or unit.segments[segment].address
                found.append(Target(unit.id, segment, host, service.port, params={"service": service.name}))
    return gate(config, found)


def gate(config: DaemonConfig, targets: list[Target]) -> TargetSet:
    out = TargetSet()
    for target in targets:
        if config.allowed(target.address):
            out.targets.append(target)
        else:
            out.refused.append(f"{target.unit}/{target.segment} {target.address}")
    return out
