"""Remediation per platform: add, change, remove, nested sections, the managed scope, secret
placeholders as wildcards, and the platform forms hier_config alone gets wrong."""

from __future__ import annotations

import pytest

from govnet.errors import GovnetError
from govnet.inventory.models import Inventory
from govnet.render import render_inventory
from govnet.rollout.remediate import remediate
from tests.helpers import ROOT
from tests.render.devsim_apply import apply

VRP_RUNNING = """\
!Software Version V200R019C10SPC500
#
sysname AS01
#
info-center loghost 10.9.9.9
#
aaa
 local-user ops password irreversible-cipher $1a$OpsOnly$
 local-user ops service-type ssh
 local-user govnet password irreversible-cipher $1a$Zm9vYmFy$
#
acl number 3990
 rule 5 deny ip source 10.112.0.0 0.0.255.255 destination 10.111.0.0 0.0.255.255
 rule 7 permit ip source 10.1.1.0 0.0.0.255
#
ip vpn-instance PARTY
 ipv4-family
  route-distinguisher 64512:9
#
interface Vlanif1101
 description old text
 ip binding vpn-instance OLD
 ip address 10.112.1.1 255.255.255.0
 traffic-filter outbound acl 3001
#
interface GigabitEthernet0/0/3
 description operator port
#
ip route-static 10.200.0.0 255.255.0.0 10.10.0.254
#
user-interface vty 0 4
 authentication-mode password
 user privilege level 3
#
return
"""
VRP_INTENDED = """\
# govnet part baseline huawei_vrp/baseline.j2
#
sysname AS01
#
info-center loghost 10.41.0.1
#
aaa
 local-user govnet password irreversible-cipher <<secret:env:GOVNET_SSH_PASSWORD>>
#
user-interface vty 0 4
 authentication-mode aaa
# govnet part party huawei_vrp/party.j2
#
acl number 3990
 rule 5 deny ip source 10.112.0.0 0.0.255.255 destination 10.111.0.0 0.0.255.255
#
ip vpn-instance PARTY
 ipv4-family
  route-distinguisher 411100:2
#
interface Vlanif1101
 description govnet party sz-x
 ip binding vpn-instance PARTY
 ip address 10.112.1.1 255.255.255.0
 traffic-filter inbound acl 3990
#
"""


def test_vrp_remediation_in_order_with_vrp_forms() -> None:
    result = remediate("huawei_vrp", VRP_RUNNING, VRP_INTENDED)
    assert result.commands == [
        "undo info-center loghost 10.9.9.9",
        "info-center loghost 10.41.0.1",
        "user-interface vty 0 4",
        "authentication-mode aaa",
        "quit",
        "acl number 3990",
        "undo rule 7",
        "quit",
        "ip vpn-instance PARTY",
        "ipv4-family",
        "undo route-distinguisher",
        "route-distinguisher 411100:2",
        "quit",
        "quit",
        "interface Vlanif1101",
        "undo ip binding vpn-instance OLD",
        "undo traffic-filter outbound",
        "description govnet party sz-x",
        "ip binding vpn-instance PARTY",
        "traffic-filter inbound acl 3990",
        "ip address 10.112.1.1 255.255.255.0",
        "quit",
    ]
    assert "aaa" not in result.commands  # the placeholder matched the device's cipher
    assert result.kinds == {"baseline": (2, 2), "party": (4, 5)}
    after = apply("huawei_vrp", VRP_RUNNING, result.commands)
    assert remediate("huawei_vrp", after, VRP_INTENDED).empty
    for kept in (
        "local-user ops service-type ssh",
        "interface GigabitEthernet0/0/3",
        "user privilege level 3",
    ):
        assert kept in after
    assert "ip route-static 10.200.0.0 255.255.0.0 10.10.0.254" in after


def test_unmanaged_lines_are_neither_reported_nor_touched() -> None:
    result = remediate("huawei_vrp", VRP_RUNNING, VRP_INTENDED)
    for text in [*result.extra, *result.commands]:
        assert "ops" not in text and "GigabitEthernet0/0/3" not in text and "10.200.0.0" not in text
        assert "user privilege" not in text
    assert "acl number 3990 > rule 7 permit ip source 10.1.1.0 0.0.0.255" in result.extra
    assert "interface Vlanif1101 > description old text" in result.extra


def test_a_changed_value_is_one_command_where_the_device_overwrites() -> None:
    running = "#\ninterface Vlanif101\n description a\n ip address 10.0.0.1 255.255.255.0\n#\nreturn\n"
    intended = "#\ninterface Vlanif101\n description b\n ip address 10.0.0.2 255.255.255.0\n#\n"
    assert remediate("huawei_vrp", running, intended).commands == [
        "interface Vlanif101",
        "description b",
        "ip address 10.0.0.2 255.255.255.0",
        "quit",
    ]


def test_removed_section_and_self_are_handled() -> None:
    intended = "#\nacl number 2990\n rule 5 permit source 10.41.0.0 0.0.255.255\n#\n"
    running = intended + "acl number 2999\n rule 5 permit\n#\nreturn\n"
    assert remediate("huawei_vrp", running, intended).commands == ["undo acl number 2999"]
    assert remediate("huawei_vrp", intended, intended).empty


def test_placeholders_are_wildcards_for_what_the_device_shows() -> None:
    intended = "#\nsnmp-agent usm-user v3 mon G authentication-mode sha <<secret:env:A>> privacy-mode aes128 <<secret:env:P>> acl 2991\n#\n"
    shown = "#\nsnmp-agent usm-user v3 mon G authentication-mode sha cipher %^%#a1%^%# privacy-mode aes128 cipher %^%#b2%^%# acl 2991\n#\nreturn\n"
    assert remediate("huawei_vrp", shown, intended).empty
    other_user = shown.replace(" mon ", " old ")
    result = remediate("huawei_vrp", other_user, intended)
    assert result.commands == ["undo snmp-agent usm-user v3 old", intended.split("\n")[1]]


H3C_RUNNING = """\
#
 sysname T1
#
local-user govnet class manage
 password hash $h$6$abc==
 service-type ssh telnet
#
 snmp-agent community read cipher $c$3$old== acl 2000
#
line vty 0 63
 authentication-mode scheme
 user-role network-operator
#
return
"""
H3C_INTENDED = """\
#
sysname T1
#
local-user govnet class manage
 password simple <<secret:env:P>>
 service-type ssh
#
line vty 0 63
 authentication-mode scheme
 protocol inbound ssh
#
"""


def test_comware_leaves_views_with_quit_and_removes_stale_community() -> None:
    result = remediate("h3c_comware", H3C_RUNNING, H3C_INTENDED)
    assert result.commands == [
        "undo snmp-agent community read cipher $c$3$old==",
        "local-user govnet class manage",
        "undo service-type ssh telnet",
        "service-type ssh",
        "quit",
        "line vty 0 63",
        "protocol inbound ssh",
        "quit",
    ]
    assert "exit" not in result.commands
    after = apply("h3c_comware", H3C_RUNNING, result.commands)
    assert remediate("h3c_comware", after, H3C_INTENDED).empty
    assert "user-role network-operator" in after


IOS_RUNNING = """\
Building configuration...

Current configuration : 900 bytes
!
hostname R1
!
username ops privilege 15 secret 9 $9$ops$
username govnet privilege 15 secret 9 $9$abc$
!
snmp-server community public RO
snmp-server group GOVNET-RO v3 priv access GOVNET-SNMP
!
ip access-list extended GOVNET-PARTY
 10 permit ip any any
 20 deny ip 10.112.0.0 0.0.255.255 10.111.0.0 0.0.255.255
!
vrf definition PARTY
 rd 411100:2
 !
 address-family ipv4
 exit-address-family
!
interface Vlan1115
 vrf forwarding INTRANET
 ip address 10.112.29.1 255.255.255.0
!
banner motd ^Old banner^
!
line vty 0 4
 login local
 transport input telnet ssh
!
end
"""
IOS_INTENDED = """\
! govnet part baseline cisco_ios/baseline.j2
!
hostname R1
!
username govnet privilege 15 secret <<secret:env:P>>
!
snmp-server group GOVNET-RO v3 priv access GOVNET-SNMP
snmp-server user mon GOVNET-RO v3 auth sha <<secret:env:A>> priv aes 128 <<secret:env:X>> access GOVNET-SNMP
!
banner motd ^New banner^
!
line vty 0 4
 login authentication default
 transport input ssh
! govnet part party cisco_ios/party.j2
!
ip access-list extended GOVNET-PARTY
 deny ip 10.112.0.0 0.0.255.255 10.111.0.0 0.0.255.255
 permit ip any any
!
vrf definition PARTY
 rd 411100:2
 !
 address-family ipv4
 exit-address-family
!
interface Vlan1115
 vrf forwarding PARTY
 ip address 10.112.29.1 255.255.255.0
!
"""


def test_ios_rewrites_reordered_acl_resends_address_and_keeps_banner_lines_apart() -> None:
    shown = apply("cisco_ios", IOS_RUNNING, [])  # as the lab device shows it: community ciphered
    community = next(line for line in shown.splitlines() if line.startswith("snmp-server community"))
    result = remediate("cisco_ios", shown, IOS_INTENDED)
    assert result.commands == [
        f"no snmp-server community {community.split()[2]}",
        "banner motd ^New banner^",
        "line vty 0 4",
        "no login local",
        "login authentication default",
        "transport input ssh",
        "exit",
        "interface Vlan1115",
        "vrf forwarding PARTY",
        "ip address 10.112.29.1 255.255.255.0",
        "exit",
        "no ip access-list extended GOVNET-PARTY",
        "ip access-list extended GOVNET-PARTY",
        "deny ip 10.112.0.0 0.0.255.255 10.111.0.0 0.0.255.255",
        "permit ip any any",
        "exit",
    ]
    after = apply("cisco_ios", shown, result.commands)
    assert remediate("cisco_ios", after, IOS_INTENDED).empty
    assert "username ops privilege 15 secret 9 $9$ops$" in after


def test_ios_snmp_user_is_sent_with_its_group_only() -> None:
    without_group = IOS_RUNNING.replace("snmp-server group GOVNET-RO v3 priv access GOVNET-SNMP\n", "")
    commands = remediate("cisco_ios", without_group, IOS_INTENDED).commands
    group = commands.index("snmp-server group GOVNET-RO v3 priv access GOVNET-SNMP")
    assert commands[group + 1].startswith("snmp-server user mon GOVNET-RO v3 auth sha <<secret:env:A>>")
    assert not any(
        c.startswith("snmp-server user") for c in remediate("cisco_ios", IOS_RUNNING, IOS_INTENDED).commands
    )


def test_ios_address_family_is_left_with_exit_address_family() -> None:
    intended = "!\nvrf definition X\n rd 1:1\n !\n address-family ipv4\n exit-address-family\n!\n"
    assert remediate("cisco_ios", "end\n", intended).commands == [
        "vrf definition X",
        "rd 1:1",
        "address-family ipv4",
        "exit-address-family",
        "exit",
    ]


def test_every_site_config_is_idempotent_against_itself(site: Inventory) -> None:
    for result in render_inventory(site, ROOT / "configs"):
        assert remediate(result.platform, result.text, result.text).empty, result.device


def test_unknown_platform_is_refused() -> None:
    with pytest.raises(GovnetError, match="unknown platform 'junos'"):
        remediate("junos", "", "")
