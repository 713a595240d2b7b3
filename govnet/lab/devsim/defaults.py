"""Factory-plus-management starting configurations, one per platform.

A simulated device without an explicit initial configuration boots with what a freshly
installed unit in the field typically carries: its name, local management user, SSH enabled,
a few physical interfaces and a management address. It is long enough (more than one screen)
that paging is visible when it is not disabled.
"""

from __future__ import annotations

from govnet.lab.devsim.personality import Personality

_HUAWEI = """\
#
sysname {name}
#
clock timezone Beijing add 08:00:00
#
vlan batch 10 20 30
#
undo telnet server enable
undo http server enable
#
aaa
 authentication-scheme default
 authorization-scheme default
 accounting-scheme default
 domain default
 domain default_admin
 local-user admin password irreversible-cipher $1c$Lab0nly$
 local-user admin privilege level 15
 local-user admin service-type ssh
#
interface Vlanif10
 description management
 ip address 10.10.0.1 255.255.255.0
#
{interfaces}
#
interface LoopBack0
 ip address 10.255.0.1 255.255.255.255
#
interface NULL0
#
snmp-agent
snmp-agent sys-info version v2c v3
#
stelnet server enable
ssh user admin authentication-type password
ssh user admin service-type stelnet
#
user-interface con 0
 authentication-mode password
user-interface vty 0 4
 authentication-mode aaa
 protocol inbound ssh
#
return
"""

_H3C = """\
#
 version 7.1.070, Release 6328
#
 sysname {name}
#
 clock timezone Beijing add 08:00:00
#
 telnet server disable
#
vlan 1
#
vlan 10
 description management
#
{interfaces}
#
interface Vlan-interface10
 ip address 10.10.0.1 255.255.255.0
#
interface LoopBack0
 ip address 10.255.0.1 255.255.255.255
#
 ssh server enable
#
line vty 0 63
 authentication-mode scheme
 user-role network-operator
#
local-user admin class manage
 password hash $h$6$Lab0nly$
 service-type ssh
 authorization-attribute user-role network-admin
#
return
"""

_CISCO = """\
!
version 15.7
service timestamps debug datetime msec
service timestamps log datetime msec
service password-encryption
no service pad
hostname {name}
!
boot-start-marker
boot-end-marker
!
enable secret 9 $9$Lab0nly$
!
no ip domain lookup
ip domain name lab.invalid
ip ssh version 2
!
username admin privilege 15 secret 9 $9$Lab0nly$
!
{interfaces}
!
interface Loopback0
 ip address 10.255.0.1 255.255.255.255
!
ip route 0.0.0.0 0.0.0.0 10.10.0.254
!
line con 0
 logging synchronous
line vty 0 4
 login local
 transport input ssh
!
end
"""

_TEMPLATES = {"huawei_vrp": _HUAWEI, "h3c_comware": _H3C, "cisco_ios": _CISCO}
_PORTS = {
    "huawei_vrp": ("GigabitEthernet0/0/{n}", "#"),
    "h3c_comware": ("GigabitEthernet1/0/{n}", "#"),
    "cisco_ios": ("GigabitEthernet0/{n}", "!"),
}


def default_config(name: str, platform: Personality, ports: int = 4) -> str:
    """A starting configuration for a device called ``name`` (display form, parseable)."""
    template = _TEMPLATES[platform.name]
    port_name, separator = _PORTS[platform.name]
    first = 0 if platform.name == "cisco_ios" else 1
    blocks = []
    for n in range(first, first + ports):
        port = port_name.format(n=n)
        body = [f"interface {port}"]
        if n == first:
            body.append(" description uplink")
        else:
            body.append(" shutdown")
        blocks.append("\n".join(body))
    interfaces = f"\n{separator}\n".join(blocks)
    return template.format(name=name, interfaces=interfaces)
