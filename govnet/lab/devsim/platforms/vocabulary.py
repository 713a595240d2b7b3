"""Shared building blocks for the platform records.

The config keyword allow-lists (a configuration line is accepted when its first word is known,
which is how typos and ``reject=`` faults surface as the vendor's error) and small constructors
that keep the records readable, with every regex compiled once at import.
"""

from __future__ import annotations

import re

from govnet.lab.devsim.personality import SectionRule


def rules(*specs: tuple[str, str, str] | tuple[str, str, str, str]) -> tuple[SectionRule, ...]:
    """Section rules from ``(regex, kind, label[, parent kind])`` tuples."""
    built = []
    for spec in specs:
        parent = spec[3] if len(spec) == 4 else None
        built.append(SectionRule(re.compile(spec[0]), spec[1], spec[2], parent))
    return tuple(built)


def words(text: str) -> frozenset[str]:
    """A keyword set from whitespace-separated text (long lists stay compact and greppable)."""
    return frozenset(text.split())


def patterns(*regexes: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r) for r in regexes)


COMMON_KEYWORDS = words(
    """
interface description ip ipv6 vlan acl rule shutdown port sysname hostname
authentication-mode user route-static access-list permit deny remark network clock
snmp-agent snmp-server ntp ntp-server ntp-service info-center logging aaa local-user
username user-interface line ssh stelnet header banner service enable route-distinguisher rd
vpn-target route-target vrf router ospf bgp rip isis area peer neighbor import-route
redistribute mtu speed duplex dhcp dns ftp telnet http stp lldp lacp arp vrrp bfd nqa qos
traffic mac-address domain password authorization-scheme authentication-scheme
accounting-scheme radius-server hwtacacs-server idle-timeout history-command screen-length
service-type privilege protocol ipv4-family ipv6-family address-family exit-address-family
silent-interface filter-policy route-policy if-match apply set match link-protocol ppp nat
firewall loopback-detect storm-control port-security dot1x mpls multicast igmp pim sflow
eth-trunk rsa ecc pki license default-route-advertise preference timer bandwidth
encapsulation
"""
)

VRP_H3C_KEYWORDS = words(
    """
ip-prefix cpu-defend drop-profile trust jumboframe negotiation l2vpn vlanif
authorization-attribute user-role password-recovery login password-control security-policy
zone sftp scp public-key super irf lldp-agent version radius traffic-filter packet-filter
"""
)

CISCO_KEYWORDS = words(
    """
switchport spanning-tree standby channel-group login exec-timeout transport access-class
crypto archive boot version cdp tacacs-server radius-server control-plane mac class-map
policy-map class route-map key object-group track event alias errdisable monitor memory
license ip-sla platform ipv6 passive-interface router-id default-information distance
maximum-paths auto-summary synchronization log-adjacency-changes timers description
media-type negotiation keepalive vtp udld power diagnostic redundancy mode multilink
hold-queue secondary exec stopbits flowcontrol logging-synchronous history session-timeout
privilege
"""
)
