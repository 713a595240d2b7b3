"""The lab devices show secrets as real ones do: in a cipher form, stable per secret."""

from __future__ import annotations

import pytest

from govnet.lab.devsim.cipher import conceal
from tests.render.devsim_apply import apply

PUSHED = {
    "huawei_vrp": (
        ["aaa", "local-user govnet password irreversible-cipher Plain-Pw1", "quit"],
        " local-user govnet password irreversible-cipher $1a$",
    ),
    "h3c_comware": (
        ["local-user govnet class manage", "password simple Plain-Pw1", "quit"],
        " password hash $h$6$",
    ),
    "cisco_ios": (
        ["username govnet privilege 15 secret Plain-Pw1"],
        "username govnet privilege 15 secret 9 $9$",
    ),
}


@pytest.mark.parametrize("platform", sorted(PUSHED))
def test_pushed_secret_is_shown_ciphered_and_stable(platform: str) -> None:
    commands, shown = PUSHED[platform]
    once = apply(platform, "", commands)
    assert "Plain-Pw1" not in once and shown in once
    assert apply(platform, once, commands) == once  # the same secret again: no change
    changed = apply(platform, once, [c.replace("Plain-Pw1", "Plain-Pw2") for c in commands])
    assert changed != once and changed.count(shown) == 1


def test_restored_cipher_lines_are_kept_and_ios_hides_snmp_users() -> None:
    line = "local-user govnet password irreversible-cipher $1a$abcdef$"
    assert conceal("huawei_vrp", line) == line
    assert conceal("h3c_comware", "password cipher $c$3$xyz==") == "password cipher $c$3$xyz=="
    after = apply("cisco_ios", "", ["snmp-server user mon G v3 auth sha Key-1 priv aes 128 Key-2"])
    assert "snmp-server user" not in after and "Key-1" not in after
    v3 = conceal(
        "huawei_vrp", "snmp-agent usm-user v3 mon G authentication-mode sha Ak1 privacy-mode aes128 Pk1"
    )
    assert v3 is not None and "Ak1" not in v3 and "Pk1" not in v3
