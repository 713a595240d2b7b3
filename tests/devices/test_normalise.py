"""Volatile running-config lines and hidden defaults (issue #14), one test per recorded form;
pure: no device (the simulator end to end is tests/rollout/test_volatile_lab.py)."""

from __future__ import annotations

import pytest

from govnet.devices.normalise import satisfied_defaults, stable_text
from govnet.rollout.apply import verify_failure
from govnet.rollout.remediate import Remediation, remediate, running_hash
from govnet.rollout.restore import restore_commands, same_config

IOS = "!\nhostname R1\n!\nntp server 10.0.0.1\nend\n"
VRP = "#\nsysname A\n#\nreturn\n"
COMWARE7 = "#\n version 7.1.070, Release 6328\n#\n sysname A\n#\nreturn\n"


@pytest.mark.parametrize(
    ("platform", "base", "noisy"),
    [
        ("cisco_ios", IOS, IOS.replace("ntp server", "ntp clock-period 17179869\nntp server")),
        (
            "cisco_ios",
            IOS,
            "!\n! Last configuration change at 10:00:01 UTC Mon May 6 2024 by admin\n"
            "! NVRAM config last updated at 10:00:09 UTC Mon May 6 2024 by admin\n" + IOS[2:],
        ),
        ("cisco_ios", IOS, "!\n! No configuration change since last restart\n" + IOS[2:]),
        (
            "cisco_ios",
            IOS,
            "Load for five secs: 1%/0%; one minute: 1%\nTime source is NTP, 10:00 UTC\n" + IOS,
        ),
        ("huawei_vrp", VRP, "[V200R007C00SPC600]\n" + VRP),
        ("huawei_vrp", VRP, "!Software Version V200R021C00SPC600\n" + VRP),
        (
            "huawei_vrp",
            VRP,
            "!Last configuration was updated at 2024-07-14 04:57:04+00:00 by admin\n"
            "!Last configuration was saved at 2024-07-14 04:54:24+00:00 by admin\n" + VRP,
        ),
        ("huawei_vrp", VRP, "2024-05-06 10:00:01.123+08:00\n" + VRP),
        ("h3c_comware", "#\n#\n sysname A\n#\nreturn\n", COMWARE7),
    ],
    ids=[
        "ios-clock-period",
        "ios-last-change",
        "ios-no-change",
        "ios-exec-timestamp",
        "vrp-ar-version",
        "vrp-software-version",
        "vrp8-last-config",
        "vrp-command-timestamp",
        "comware-version",
    ],
)
def test_volatile_lines_are_not_configuration(platform: str, base: str, noisy: str) -> None:
    assert noisy != base
    assert stable_text(platform, noisy) == stable_text(platform, base)
    assert running_hash(platform, noisy) == running_hash(platform, base)
    assert restore_commands(platform, noisy, base) == restore_commands(platform, base, noisy) == []
    assert same_config(platform, noisy, base)


def test_a_volatile_pattern_matches_only_its_own_line() -> None:
    text = IOS.replace("ntp server 10.0.0.1", "ntp server 10.0.0.1\nntp clock-period 5 extra")
    assert stable_text("cisco_ios", text) == text  # not the whole-line form: kept, compared


def test_a_hidden_default_is_satisfied_while_absent_and_nothing_contrary_shows() -> None:
    intended = ["undo telnet server enable"]
    assert satisfied_defaults("h3c_comware", COMWARE7, intended) == {"undo telnet server enable"}
    contrary = COMWARE7.replace("#\nreturn", "#\n telnet server enable\n#\nreturn")
    assert satisfied_defaults("h3c_comware", contrary, intended) == set()


def test_a_hidden_default_depends_on_the_firmware() -> None:
    comware5 = COMWARE7.replace("7.1.070, Release 6328", "5.20, Release 2208P01")
    assert satisfied_defaults("h3c_comware", comware5, ["undo telnet server enable"]) == set()
    ar = "[V200R019C10SPC500]\n" + VRP
    assert satisfied_defaults("huawei_vrp", ar, ["undo telnet server enable"]) == {
        "undo telnet server enable"
    }
    old = "[V200R007C00SPC600]\n" + VRP  # telnet on by default: the line must show
    assert satisfied_defaults("huawei_vrp", old, ["undo telnet server enable"]) == set()
    assert satisfied_defaults("huawei_vrp", VRP, ["undo telnet server enable"]) == set()
    assert satisfied_defaults("cisco_ios", IOS, ["no ip http server"]) == set()


def test_plan_and_verify_accept_a_hidden_default_but_push_it_against_a_contrary_line() -> None:
    intended = "#\n sysname A\n#\nundo telnet server enable\n"
    assert remediate("h3c_comware", COMWARE7, intended).empty
    enabled = COMWARE7.replace("#\nreturn", "#\n telnet server enable\n#\nreturn")
    fix = remediate("h3c_comware", enabled, intended)
    assert "undo telnet server enable" in fix.commands
    assert fix.missing == ["undo telnet server enable"]


def test_a_restore_puts_back_a_feature_the_rollout_turned_off_to_its_hidden_default() -> None:
    before = COMWARE7.replace("#\nreturn", "#\n telnet server enable\n#\nreturn")
    assert restore_commands("h3c_comware", COMWARE7, before) == ["telnet server enable"]


def test_the_verify_message_names_missing_and_left_over_lines() -> None:
    left = Remediation(
        "huawei_vrp", ["x"], missing=["acl number 2990 > rule 5 permit", "y"], extra=["undo z"]
    )
    assert verify_failure(left) == (
        "verify: 2 intended line(s) missing (e.g. 'acl number 2990 > rule 5 permit'), "
        "1 removed line(s) still present (e.g. 'undo z')"
    )
    assert verify_failure(Remediation("cisco_ios", [], extra=["ip http server"])) == (
        "verify: 1 removed line(s) still present (e.g. 'ip http server')"
    )
