"""Pure logic of the device simulator: config tree, editor, exec matching, faults, specs."""

from __future__ import annotations

import doctest
import importlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govnet.errors import LabError, SafetyError
from govnet.lab.devsim import DeviceSpec, check_address, ensure_host_key, get_platform
from govnet.lab.devsim.commands import match_exec
from govnet.lab.devsim.config import ConfigNode, block_delimiter, parse_config, render_config
from govnet.lab.devsim.defaults import default_config
from govnet.lab.devsim.editor import ConfigEditor, LineVerdict
from govnet.lab.devsim.faults import (
    DeviceFaults,
    FaultBook,
    clear_faults,
    parse_fault,
    read_faults,
    set_fault,
)

PLATFORMS = ["huawei_vrp", "h3c_comware", "cisco_ios"]

# ------------------------------------------------------------------ config tree


def _tree(text: str, platform: str) -> ConfigNode:
    return parse_config(text, get_platform(platform))


VRP_TEXT = """\
!Software Version V200R019C10SPC500
#
sysname A1
#
ip vpn-instance party
 ipv4-family
  route-distinguisher 65000:1
  vpn-target 65000:1 export-extcommunity
#
interface GigabitEthernet0/0/1
 description uplink
 ip binding vpn-instance party
#
header login information "
Authorised access only
"
#
return
"""


def test_parse_builds_the_hierarchy_and_skips_separators() -> None:
    root = _tree(VRP_TEXT, "huawei_vrp")
    assert [c.text for c in root.children] == [
        "sysname A1",
        "ip vpn-instance party",
        "interface GigabitEthernet0/0/1",
        'header login information "\nAuthorised access only\n"',
    ]
    vpn = root.children[1]
    assert vpn.children[0].text == "ipv4-family"
    assert [c.text for c in vpn.children[0].children] == [
        "route-distinguisher 65000:1",
        "vpn-target 65000:1 export-extcommunity",
    ]


def test_render_is_the_display_form() -> None:
    text = render_config(_tree(VRP_TEXT, "huawei_vrp"), get_platform("huawei_vrp"))
    assert text.startswith("#\nsysname A1\n#\nip vpn-instance party\n ipv4-family\n  route-")
    assert text.endswith('#\nheader login information "\nAuthorised access only\n"\n#\nreturn\n')


def test_h3c_global_lines_are_indented_and_still_top_level() -> None:
    platform = get_platform("h3c_comware")
    root = ConfigNode("", [ConfigNode("sysname B"), ConfigNode("vlan 1"), ConfigNode("ssh x")])
    text = render_config(root, platform)
    assert text == "#\n sysname B\n#\nvlan 1\n#\n ssh x\n#\nreturn\n"
    assert parse_config(text, platform) == root


@pytest.mark.parametrize("platform", PLATFORMS)
def test_default_configs_round_trip(platform: str) -> None:
    p = get_platform(platform)
    root = parse_config(default_config("unit-7", p), p)
    assert parse_config(render_config(root, p), p) == root
    assert len(render_config(root, p).splitlines()) > 2 * p.paging.page_lines - 10


_WORD = st.builds(str.__add__, st.sampled_from("abhimnrsvx"), st.text("aei0129/.:-", max_size=6))
_TEXT = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)


def _line(platform: str) -> st.SearchStrategy[str]:
    p = get_platform(platform)
    start = p.syntax.block_start
    return _TEXT.filter(
        lambda t: t not in (p.syntax.trailer, "end", "return") and (start is None or not start.match(t))
    )


def _trees(platform: str) -> st.SearchStrategy[ConfigNode]:
    line = _line(platform)
    leaf = st.builds(ConfigNode, line, st.just([]))

    def level(child: st.SearchStrategy[ConfigNode]) -> st.SearchStrategy[ConfigNode]:
        kids = st.lists(child, max_size=4, unique_by=lambda n: n.text)
        return st.builds(ConfigNode, line, kids)

    nested = level(level(leaf) | leaf)
    top = st.lists(nested | leaf, max_size=8, unique_by=lambda n: n.text)
    return st.builds(ConfigNode, st.just(""), top)


@pytest.mark.parametrize("platform", PLATFORMS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_render_then_parse_gives_the_same_tree(platform: str, data: st.DataObject) -> None:
    p = get_platform(platform)
    root = data.draw(_trees(platform))
    assert parse_config(render_config(root, p), p) == root


# ------------------------------------------------------------------ editor


def _editor(platform: str, text: str = "") -> ConfigEditor:
    return ConfigEditor(_tree(text, platform), get_platform(platform))


def test_sections_nest_and_label_the_prompt() -> None:
    ed = _editor("huawei_vrp")
    ed.apply("ip vpn-instance party")
    assert ed.label == "vpn-instance-party"
    ed.apply("ipv4-family")
    assert ed.label == "vpn-instance-party-af-ipv4"
    ed.apply(" route-distinguisher 65000:1")
    ed.apply("interface GE0/0/1")  # a top-level header climbs out; GE is expanded
    assert ed.label == "GigabitEthernet0/0/1"
    ed.apply("description x")
    text = render_config(ed.root, ed.platform)
    assert "ip vpn-instance party\n ipv4-family\n  route-distinguisher 65000:1\n" in text
    assert "interface GigabitEthernet0/0/1\n description x\n" in text


def test_cisco_modes_and_global_lines_climb_out() -> None:
    ed = _editor("cisco_ios")
    ed.apply("interface Gi0/1")
    assert ed.label == "config-if"
    ed.apply("ip address 10.0.0.1 255.255.255.0")
    ed.apply("ip route 0.0.0.0 0.0.0.0 10.0.0.254")  # global-only: leaves config-if
    assert ed.label is None
    ed.apply("ip access-list extended MGMT")
    ed.apply("10 permit tcp any any eq 22")
    assert ed.label == "config-ext-nacl"
    assert [c.text for c in ed.root.children] == [
        "interface GigabitEthernet0/1",
        "ip route 0.0.0.0 0.0.0.0 10.0.0.254",
        "ip access-list extended MGMT",
    ]


def test_single_valued_lines_replace_and_secondaries_add() -> None:
    ed = _editor("cisco_ios")
    ed.apply("interface Loopback1")
    for line in ("description a", "description b", "ip address 10.0.0.1 255.255.255.255"):
        assert ed.apply(line).changed
    ed.apply("ip address 10.0.0.2 255.255.255.255")
    ed.apply("ip address 10.0.0.3 255.255.255.255 secondary")
    assert not ed.apply("description b").changed
    assert [c.text for c in ed.section.children] == [
        "description b",
        "ip address 10.0.0.2 255.255.255.255",
        "ip address 10.0.0.3 255.255.255.255 secondary",
    ]


def test_undo_removes_lines_prefixes_and_whole_sections() -> None:
    ed = _editor("h3c_comware")
    ed.apply("interface LoopBack3")
    ed.apply("description temp")
    ed.apply("ip address 10.1.1.1 32")
    assert ed.apply("undo description").changed
    assert [c.text for c in ed.section.children] == ["ip address 10.1.1.1 32"]
    assert ed.apply("undo interface LoopBack3").changed
    assert ed.root.find("interface LoopBack3") is None
    assert ed.label is None
    assert not ed.apply("undo ip route-static 10.0.0.0 8 10.0.0.254").changed


def test_negations_that_devices_display_are_kept_and_cleared() -> None:
    ed = _editor("cisco_ios")
    assert ed.apply("no ip http server").changed
    assert ed.root.find("no ip http server") is not None
    assert ed.apply("ip http server").changed
    assert ed.root.find("no ip http server") is None
    assert ed.root.find("ip http server") is None  # back to the default, which is not displayed
    assert ed.apply("no shutdown").changed is False  # nothing to remove, not displayed
    shown = _editor("huawei_vrp")  # a feature the device displays when on comes back displayed
    assert shown.apply("stelnet server enable").changed
    assert shown.apply("undo stelnet server enable").changed
    assert [c.text for c in shown.root.children] == []
    assert shown.apply("stelnet server enable").changed
    assert [c.text for c in shown.root.children] == ["stelnet server enable"]


def test_lines_typed_again_land_where_the_device_keeps_them() -> None:
    ed = _editor("huawei_vrp")
    for line in (
        "sysname A",
        "acl number 2990",
        "interface LoopBack3",
        "ntp-service unicast-server 10.0.0.1",
    ):
        ed.apply(line)
        ed.reset()
    ed.apply("interface LoopBack3")
    ed.apply("description a")
    ed.apply("ip address 10.1.1.1 32")
    ed.reset()
    before = [c.text for c in ed.root.children]
    assert ed.apply("undo acl number 2990").changed
    assert ed.apply("undo sysname A").changed
    ed.apply("snmp-agent sys-info version v3")  # a line never seen goes after the others
    ed.apply("acl number 2990")
    ed.reset()
    ed.apply("sysname A")
    ed.apply("interface LoopBack3")
    ed.apply("undo description")
    ed.apply("description a")
    assert [c.text for c in ed.root.children] == [*before, "snmp-agent sys-info version v3"]
    assert [c.text for c in ed.root.find("interface LoopBack3").children] == [  # type: ignore[union-attr]
        "description a",
        "ip address 10.1.1.1 32",
    ]


def test_unknown_and_incomplete_lines_say_where() -> None:
    ed = _editor("huawei_vrp")
    assert ed.apply("sysnmae X").verdict is LineVerdict.UNKNOWN
    outcome = ed.apply("undo bogus thing")
    assert (outcome.verdict, outcome.error_column) == (LineVerdict.UNKNOWN, 5)
    assert ed.apply("interface").verdict is LineVerdict.INCOMPLETE
    assert ed.apply("aaa").verdict is LineVerdict.OK


def test_banners_open_blocks_only_when_unterminated() -> None:
    cisco = get_platform("cisco_ios")
    assert block_delimiter(cisco, "banner motd ^C") == "^"
    assert block_delimiter(cisco, "banner motd #hello#") is None
    assert block_delimiter(get_platform("huawei_vrp"), 'header login information "x') == '"'


# ------------------------------------------------------------------ exec commands


@pytest.mark.parametrize(
    ("platform", "line", "words", "args"),
    [
        ("cisco_ios", "sh run", ("show", "running-config"), ()),
        ("cisco_ios", "wr", ("write",), ()),
        ("cisco_ios", "terminal length 0", ("terminal", "length"), ("0",)),
        ("huawei_vrp", "screen-length 0 temporary", ("screen-length",), ("0", "temporary")),
        ("h3c_comware", "save force", ("save", "force"), ()),
        ("h3c_comware", "save", ("save",), ()),
    ],
)
def test_exec_abbreviations(platform: str, line: str, words: tuple[str], args: tuple[str]) -> None:
    found = match_exec(get_platform(platform).exec_commands, line, privileged=True)
    assert found.command is not None
    assert (found.command.words, found.args) == (words, args)


def test_exec_errors_point_at_the_bad_word() -> None:
    cisco = get_platform("cisco_ios").exec_commands
    assert match_exec(cisco, "show running-config", privileged=False).column == 5
    assert match_exec(cisco, "e", privileged=True).ambiguous
    incomplete = match_exec(cisco, "configure", privileged=True)
    assert incomplete.verdict is LineVerdict.INCOMPLETE


# ------------------------------------------------------------------ faults


def test_fault_strings_are_strict() -> None:
    assert str(parse_fault("reject=^snmp")) == "reject=^snmp"
    for bad in ("slow=fast", "reject=(", "ssh-drop=1", "explode", "loss=120", "slow"):
        with pytest.raises(LabError):
            parse_fault(bad)


def test_set_and_clear_faults_rewrite_the_file(tmp_path: Path) -> None:
    set_fault(tmp_path, "u1", "slow=100")
    set_fault(tmp_path, "u1", "slow=300")
    set_fault(tmp_path, "u1", "reject=^acl")
    set_fault(tmp_path, "u2", "auth-fail")
    data = json.loads((tmp_path / "faults.json").read_text())
    assert data == {"u1": ["slow=300", "reject=^acl"], "u2": ["auth-fail"]}
    clear_faults(tmp_path, "u1", "slow")
    assert [str(f) for f in read_faults(tmp_path)["u1"]] == ["reject=^acl"]
    clear_faults(tmp_path, "u1")
    assert set(read_faults(tmp_path)) == {"u2"}


def test_fault_book_follows_file_changes(tmp_path: Path) -> None:
    book = FaultBook(tmp_path)
    assert book.for_device("u1") == DeviceFaults()
    set_fault(tmp_path, "u1", "slow=250")
    assert book.for_device("u1").slow_ms == 250
    set_fault(tmp_path, "u1", "reject=community")
    assert book.for_device("u1").rejects("snmp-agent community read x")
    clear_faults(tmp_path, "u1")
    assert book.for_device("u1") == DeviceFaults()
    (tmp_path / "faults.json").write_text("{not json")
    assert book.for_device("u1") == DeviceFaults()  # a broken file keeps the last good view


# ------------------------------------------------------------------ specs and safety


def test_spec_from_dict_is_strict_and_hides_secrets(tmp_path: Path) -> None:
    data = {
        "name": "u1",
        "platform": "cisco_ios",
        "address": "198.18.0.10",
        "username": "netops",
        "password": "hunter2-secret",
        "enable_secret": "en-secret",
        "state_dir": str(tmp_path),
    }
    spec = DeviceSpec.from_dict(data)
    assert spec.port == 22
    assert spec.key_path == tmp_path / "u1.ssh_host_key"
    assert "hunter2" not in repr(spec) and "en-secret" not in repr(spec)
    with pytest.raises(LabError, match="unknown keys: pasword"):
        DeviceSpec.from_dict({**data, "pasword": "x"})
    with pytest.raises(LabError, match="port must be an integer"):
        DeviceSpec.from_dict({**data, "port": "22"})


@pytest.mark.parametrize("address", ["127.0.0.1", "127.9.9.9", "198.18.0.1", "198.19.255.254"])
def test_lab_addresses_are_allowed(address: str) -> None:
    check_address(address)


@pytest.mark.parametrize("address", ["10.0.0.1", "198.20.0.1", "0.0.0.0", "::1"])
def test_other_addresses_are_refused(address: str) -> None:
    with pytest.raises(SafetyError):
        check_address(address)


@pytest.mark.parametrize("module", ["commands", "config", "editor", "faults"])
def test_doctests(module: str) -> None:
    mod = importlib.import_module(f"govnet.lab.devsim.{module}")
    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted > 0


def test_host_key_file_is_private(tmp_path: Path) -> None:
    key = ensure_host_key(tmp_path / "k")
    assert os.stat(tmp_path / "k").st_mode & 0o777 == 0o600
    assert ensure_host_key(tmp_path / "k").public_data == key.public_data
