"""From the inventory to probe targets, per probe kind and segment.

Every target passes the ``allowed_networks`` gate here, before any probe sees it: the daemon
never sends a packet outside them, whatever the inventory says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from govnet.inventory.models import Inventory, Node, SnmpV2c, SnmpV3, Unit
from govnet.monitor.config import DaemonConfig
from govnet.probes.base import Target


@dataclass
class TargetSet:
    targets: list[Target] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def elements(inventory: Inventory, owned: set[str]) -> list[Node | Unit]:
    """Nodes (always: units' states depend on them) and the units this daemon owns."""
    return [*inventory.nodes, *(u for u in inventory.units if u.id in owned)]


def icmp_targets(config: DaemonConfig, inventory: Inventory, owned: set[str], segment: str) -> TargetSet:
    found = [
        Target(e.id, segment, str(e.segments[segment].address.ip))
        for e in elements(inventory, owned)
        if segment in e.segments
    ]
    return gate(config, found)


def snmp_targets(
    config: DaemonConfig, inventory: Inventory, owned: set[str], resolve: Callable[[str], str]
) -> TargetSet:
    found = []
    for element in elements(inventory, owned):
        device = element.device
        if device.snmp is None:
            continue
        params: dict[str, Any] = {"interfaces": list(device.interfaces)}
        if isinstance(device.snmp, SnmpV2c):
            params.update(version="v2c", community=resolve(device.snmp.community))
        elif isinstance(device.snmp, SnmpV3):
            params.update(
                version="v3",
                user=device.snmp.user,
                auth_protocol=device.snmp.auth_protocol,
                auth_key=resolve(device.snmp.auth_key),
                priv_protocol=device.snmp.priv_protocol,
                priv_key=resolve(device.snmp.priv_key),
            )
        found.append(Target(element.id, "management", str(device.host), 161, params=params))
    return gate(config, found)


def tcp_targets(config: DaemonConfig, inventory: Inventory, owned: set[str], segment: str) -> TargetSet:
    found = []
    for unit in inventory.units:
        if unit.id not in owned:
            continue
        for service in unit.services:
            if service.segment != segment or segment not in unit.segments:
                continue
            host = service.host or unit.segments[segment].address.ip
            found.append(Target(unit.id, segment, str(host), service.port, params={"service": service.name}))
    return gate(config, found)


def gate(config: DaemonConfig, targets: list[Target]) -> TargetSet:
    allowed = [t for t in targets if config.allowed(t.address)]
    return TargetSet(allowed, [t.address for t in targets if not config.allowed(t.address)])
