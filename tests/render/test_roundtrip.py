"""Round trip through the lab's configuration tree: any running config (a random part of the
intended one, plus drift inside and outside the managed scope) → remediation → the device →
remediation again is empty, and the operator's own lines are still there."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.inventory.models import Inventory
from govnet.lab.devsim.defaults import default_config
from govnet.lab.devsim.platforms import get_platform
from govnet.platforms import dialect
from govnet.render import render_device
from govnet.render.tree import Line, parse
from govnet.rollout.remediate import remediate
from tests.helpers import ROOT
from tests.render.devsim_apply import apply

DEVICES = ["sz-shiwei-ban", "core-city", "wy-wuquan", "agg-wuyang", "sz-guoshui"]

# Drift the remediation must undo (inside the managed scope); {iface} is an intended interface.
MANAGED = {
    "huawei_vrp": [
        ["info-center loghost 10.9.9.9"],
        ["ntp-service unicast-server 10.9.9.8"],
        ["snmp-agent community read cipher %^%#OldCommunity%^%# acl 2000"],
        ["acl number 3990", "rule 7 permit ip", "quit"],
        ["acl number 2990", "rule 5 permit source 10.0.0.0 0.255.255.255", "quit"],
        ["user-interface vty 0 4", "authentication-mode password", "quit"],
        ["sysname DRIFTED"],
        ["interface {iface}", "description drifted", "ip address 192.0.2.1 255.255.255.0", "quit"],
        ["interface {iface}", "ip binding vpn-instance OTHER", "quit"],
    ],
    "h3c_comware": [
        ["info-center loghost 10.9.9.9"],
        ["snmp-agent community read simple OldCommunity acl 2000"],
        ["acl advanced 3990", "rule 7 permit ip", "quit"],
        ["line vty 0 63", "authentication-mode password", "quit"],
        ["local-user govnet class manage", "service-type telnet", "quit"],
        ["interface {iface}", "description drifted", "ip address 192.0.2.1 255.255.255.0", "quit"],
        ["ip vpn-instance PARTY", "route-distinguisher 1:99", "quit"],
    ],
    "cisco_ios": [
        ["logging host 10.9.9.9"],
        ["snmp-server community public RO"],
        ["ip access-list extended GOVNET-PARTY", "permit tcp any any eq 23", "exit"],
        ["line vty 0 4", "transport input telnet ssh", "exit"],
        ["hostname DRIFTED"],
        ["interface {iface}", "description drifted", "vrf forwarding OTHER", "exit"],
        ["vrf definition PARTY", "rd 1:99", "exit"],
    ],
}
# The operator's own lines: never touched. (command list, line that must survive)
UNMANAGED = {
    "huawei_vrp": [
        (
            ["interface GigabitEthernet0/0/3", "description operator-port", "quit"],
            " description operator-port",
        ),
        (["ip route-static 10.200.0.0 255.255.0.0 10.10.0.254"], "ip route-static 10.200.0.0 255.255.0.0"),
        (["aaa", "local-user ops service-type ssh", "quit"], " local-user ops service-type ssh"),
        (["user-interface vty 0 4", "user privilege level 3", "quit"], " user privilege level 3"),
    ],
    "h3c_comware": [
        (
            ["interface GigabitEthernet1/0/3", "description operator-port", "quit"],
            " description operator-port",
        ),
        (["ip route-static 10.200.0.0 16 10.10.0.254"], "ip route-static 10.200.0.0 16 10.10.0.254"),
    ],
    "cisco_ios": [
        (["interface GigabitEthernet0/3", "description operator-port", "exit"], " description operator-port"),
        (["ip route 10.200.0.0 255.255.0.0 10.10.0.254"], "ip route 10.200.0.0 255.255.0.0 10.10.0.254"),
        (["username ops privilege 15 secret 9 $9$ops$"], "username ops privilege 15 secret 9 $9$ops$"),
    ],
}


def _commands(node: Line, keep: Callable[[], bool], exit_word: str) -> list[str]:
    """Commands creating a random part of ``node``'s lines (headers kept for kept sub-lines)."""
    out: list[str] = []
    for line in node.children:
        if line.children:
            body = _commands(line, keep, exit_word)
            if body or keep():
                out += [line.text, *body, exit_word]
        elif keep():
            out.append(line.text)
    return out


@pytest.fixture(scope="module")
def intended(site: Inventory) -> dict[str, tuple[str, str, str]]:
    out = {}
    for ident in DEVICES:
        element = site.element(ident)
        assert element is not None
        rendered = render_device(site, element, element.device, ROOT / "configs")
        out[ident] = (rendered.platform, rendered.device, rendered.text)
    return out


@pytest.mark.parametrize("ident", DEVICES)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_remediation_converges_and_spares_the_operator(
    intended: dict[str, tuple[str, str, str]], ident: str, data: st.DataObject
) -> None:
    platform, device, text = intended[ident]
    rules = dialect(platform)
    tree = parse(rules, text)
    interfaces = [c.text.split(" ", 1)[1] for c in tree.children if c.text.startswith("interface ")]
    running = default_config(device, get_platform(platform))
    running = apply(platform, running, _commands(tree, lambda: data.draw(st.booleans()), rules.exit))
    drift = data.draw(st.lists(st.sampled_from(MANAGED[platform]), max_size=4))
    iface = data.draw(st.sampled_from(interfaces))
    for commands in drift:
        running = apply(platform, running, [c.format(iface=iface) for c in commands])
    survivors = data.draw(
        st.lists(st.sampled_from(UNMANAGED[platform]), max_size=3, unique_by=lambda s: s[1])
    )
    for commands, _ in survivors:
        running = apply(platform, running, commands)

    first = remediate(platform, running, text)
    after = apply(platform, running, first.commands)
    second = remediate(platform, after, text)

    assert second.empty, (second.commands, second.missing, second.extra)
    for _, line in survivors:
        assert line in after
    assert "<<secret:" not in after
    if not drift and first.empty:
        assert running == after
