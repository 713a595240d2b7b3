"""Placeholders, push-time substitution, masking, and what counts as a secret-bearing line."""

from __future__ import annotations

import pytest

from govnet.errors import TemplateError
from govnet.render.secrets import clear_secret, mask, placeholder, placeholders, substitute, wildcard

CLEAR = [
    "local-user govnet password irreversible-cipher Hunter2x",
    " password simple Hunter2x",
    "username govnet privilege 15 secret Hunter2x",
    "enable secret Hunter2x",
    "snmp-agent community read Hunter2x acl 2991",
    "snmp-server community Hunter2x RO GOVNET-SNMP",
    "snmp-agent usm-user v3 mon G authentication-mode sha Hunter2x privacy-mode aes128 Hunter2x",
    "snmp-server user mon G v3 auth sha Hunter2x priv aes 128 Hunter2x",
]
HARMLESS = [
    "ssh user govnet authentication-type password",
    "service password-encryption",
    " authentication-mode aaa",
    " authentication-mode scheme",
    "aaa authentication login default local",
    " login authentication default",
    "snmp-agent group v3 GOVNET-RO privacy acl 2991",
]


@pytest.mark.parametrize("line", CLEAR)
def test_secret_bearing_lines_need_a_placeholder(line: str) -> None:
    assert clear_secret(line)
    assert not clear_secret(line.replace("Hunter2x", placeholder("env:GOVNET_X")))


@pytest.mark.parametrize("line", HARMLESS)
def test_lines_without_a_secret_pass(line: str) -> None:
    assert not clear_secret(line)


def test_substitute_resolves_each_reference_once_and_keeps_the_shape() -> None:
    calls: list[str] = []

    def resolve(ref: str) -> str:
        calls.append(ref)
        return {"env:A": "alpha-1", "file:/etc/k": "kappa-2"}[ref]

    text = "a <<secret:env:A>> b <<secret:file:/etc/k>> c <<secret:env:A>>"
    assert substitute(text, resolve) == "a alpha-1 b kappa-2 c alpha-1"
    assert calls == ["env:A", "file:/etc/k"]
    assert substitute(["x", "<<secret:env:A>>"], resolve) == ["x", "alpha-1"]
    assert placeholders(text) == ["env:A", "file:/etc/k"]


def test_substitute_refuses_values_that_change_the_command_and_never_shows_them() -> None:
    with pytest.raises(TemplateError) as caught:
        substitute("p <<secret:env:A>>", lambda ref: "two\nlines")
    assert "two" not in str(caught.value) and "env:A" in str(caught.value)


def test_mask_hides_every_value_longest_first() -> None:
    assert mask("k=abc-long k2=abc", ["abc", "abc-long"]) == "k=**** k2=****"
    assert mask("nothing here", []) == "nothing here"


def test_wildcard_matches_the_secret_only() -> None:
    pattern = wildcard("snmp-agent community read <<secret:env:C>> acl 2991")
    assert pattern is not None
    assert pattern.fullmatch("snmp-agent community read cipher %^%#x1%^%# acl 2991")
    assert pattern.fullmatch("snmp-agent community read plain-value acl 2991")
    assert not pattern.fullmatch("snmp-agent community write cipher %^%#x1%^%# acl 2991")
    assert not pattern.fullmatch("snmp-agent community read cipher %^%#x1%^%# acl 2000")
    assert wildcard("sysname A") is None
