"""The whole shipped site renders: every device, no error, no secret, the right parts.

Pure and fast: the inventory is only read and rendered, never connected to.
"""

from __future__ import annotations

import re

import pytest

from govnet.inventory.models import Inventory, Unit
from govnet.platforms import dialect
from govnet.render import Rendered, render_device, render_inventory
from govnet.render.secrets import clear_secret, placeholders
from govnet.render.tree import parse
from tests.helpers import ROOT

TEMPLATES = ROOT / "configs"
SENTINELS = {
    "GOVNET_SSH_PASSWORD": "Sentinel-ssh-7f3a",
    "GOVNET_ENABLE_SECRET": "Sentinel-enable-91c2",
    "GOVNET_SNMP_AUTH_KEY": "Sentinel-auth-44d0",
    "GOVNET_SNMP_PRIV_KEY": "Sentinel-priv-0b6e",
}


@pytest.fixture(scope="module")
def rendered(site: Inventory) -> list[Rendered]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SENTINELS.items():
            patch.setenv(name, value)
        return list(render_inventory(site, TEMPLATES))


def test_every_device_of_the_site_renders(site: Inventory, rendered: list[Rendered]) -> None:
    devices = [d for e in [*site.nodes, *site.units] for d in e.devices]
    assert len(rendered) == len(devices) == 154
    assert len({r.device for r in rendered}) == 154


def test_no_secret_in_any_rendered_config(site: Inventory, rendered: list[Rendered]) -> None:
    for result in rendered:
        element = site.element(result.element)
        assert element is not None
        device = next(d for d in element.devices if d.name == result.device)
        refs = {device.credentials.password}
        if device.credentials.enable and device.platform == "cisco_ios":
            refs.add(device.credentials.enable)
        if device.snmp is not None and device.snmp.version == "v3":
            refs |= {device.snmp.auth_key, device.snmp.priv_key}
        assert set(placeholders(result.text)) == refs, result.device
        for line in result.text.splitlines():
            assert not clear_secret(line), (result.device, line)
            assert line.isascii()
        for value in SENTINELS.values():
            assert value not in result.text


def test_parts_follow_the_segments_each_device_carries(site: Inventory, rendered: list[Rendered]) -> None:
    uplink_devices = set()
    for result in rendered:
        element = site.element(result.element)
        assert element is not None
        kinds = result.kinds()
        assert kinds[0] == "baseline"
        assert [k for k in kinds if k in ("intranet", "party", "extranet")] == list(element.segments)
        if "uplink" in kinds:
            uplink_devices.add(result.device)
        for part in result.parts:
            assert part.template == f"{result.platform}/{part.kind}.j2"
    assert uplink_devices == {"LH-CORE-01"}


def test_party_isolation_acl_on_every_party_unit(site: Inventory, rendered: list[Rendered]) -> None:
    acl_apply = {
        "huawei_vrp": r"^ traffic-filter (inbound|outbound) acl 3990$",
        "h3c_comware": r"^ packet-filter 3990 (inbound|outbound)$",
        "cisco_ios": r"^ ip access-group GOVNET-PARTY (in|out)$",
    }
    for result in rendered:
        element = site.element(result.element)
        party = next((p for p in result.parts if p.kind == "party"), None)
        if party is None or not isinstance(element, Unit):
            continue
        applied = [line for line in party.text.splitlines() if re.match(acl_apply[result.platform], line)]
        assert len(applied) == 2, result.device
        assert "10.111.0.0 0.0.255.255" in party.text and "10.112.0.0 0.0.255.255" in party.text


def test_banner_cites_the_agreement(site: Inventory, rendered: list[Rendered]) -> None:
    for result in rendered:
        element = site.element(result.element)
        banner = next(
            line for line in result.text.splitlines() if line.startswith(("header login", "banner motd"))
        )
        assert not set(banner.split(" ", 3)[-1]) & set(">]#")
        if isinstance(element, Unit):
            if element.agreement is not None:
                assert f"agreement signed {element.agreement.signed.isoformat()}" in banner
            else:
                assert "agreement NOT on file" in banner


def test_rendering_is_deterministic_and_hashes_are_stable(site: Inventory, rendered: list[Rendered]) -> None:
    unit = site.unit("sz-shiwei-ban")
    assert unit is not None
    again = render_device(site, unit, unit.device, TEMPLATES)
    first = next(r for r in rendered if r.element == "sz-shiwei-ban")
    assert again == first
    same_templates = [r for r in rendered if r.platform == "huawei_vrp" and r.kinds() == first.kinds()]
    assert len({r.template_hash for r in same_templates}) == 1
    assert len({r.render_hash for r in same_templates}) == len(same_templates)


def test_route_distinguishers_come_from_the_site_code(rendered: list[Rendered]) -> None:
    core = next(r for r in rendered if r.device == "LH-CORE-01")
    assert re.findall(r"route-distinguisher (\S+)", core.text) == ["411100:1", "411100:2", "411100:3"]


def test_rendered_text_reads_back_with_kinds(rendered: list[Rendered]) -> None:
    for result in rendered[:12]:
        tree = parse(dialect(result.platform), result.text)
        assert {line.kind for line in tree.children} == set(result.kinds())


def test_minimal_site_variants_render(minimal: Inventory) -> None:
    """v2c SNMP, memberships without VLAN (loopbacks), a routed uplink, a site without code."""
    results = {r.element: r for r in render_inventory(minimal, TEMPLATES)}
    core = results["core-city"].text
    assert "interface GigabitEthernet3/0/1\n description govnet uplink province-party" in core
    assert "route-distinguisher 64512:2" in core
    township = results["zl-wanjin"]
    assert township.kinds() == ["baseline", "party"]
    assert "interface LoopBack2" in township.text
    assert "snmp-agent community read simple <<secret:env:GOVNET_SNMP_COMMUNITY>> acl 2991" in township.text
