"""Platform records: prompts, error messages and blocks, checked against vendors' real texts."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from govnet.errors import DeviceError
from govnet.inventory.models import PLATFORMS as INVENTORY_PLATFORMS
from govnet.inventory.models import Platform
from govnet.platforms import PLATFORMS, platform
from govnet.platforms import cli_record as get_platform

PROMPTS = [
    ("huawei_vrp", "<Luohe-SZF-AR01>", "exec"),
    ("huawei_vrp", "[Luohe-SZF-AR01]", "config"),
    ("huawei_vrp", "[Luohe-SZF-AR01-GigabitEthernet0/0/1]", "config"),
    ("huawei_vrp", "HRP_M[Luohe-FW01-ui-vty0-4]", "config"),
    ("h3c_comware", "<lh-gsj-s5130>", "exec"),
    ("h3c_comware", "[lh-gsj-s5130-vpn-instance-party]", "config"),
    ("h3c_comware", "RBM_P<lh-fw>", "exec"),
    ("cisco_ios", "lh-core-01>", "exec"),
    ("cisco_ios", "lh-core-01#", "privileged"),
    ("cisco_ios", "lh-core-01(config)#", "config"),
    ("cisco_ios", "lh-core-01(config-if)#", "config"),
    ("cisco_ios", "lh-core-01(config-ext-nacl)#", "config"),
]

ERRORS = [
    ("huawei_vrp", "Error: Unrecognized command found at '^' position."),
    ("huawei_vrp", "Error: Wrong parameter found at '^' position."),
    ("h3c_comware", "% Unrecognized command found at '^' position."),
    ("h3c_comware", "% Incomplete command found at '^' position."),
    ("h3c_comware", "% Too many parameters found at '^' position."),
    ("h3c_comware", "% Wrong parameter found at '^' position."),
    ("cisco_ios", "% Invalid input detected at '^' marker."),
    ("cisco_ios", "% Incomplete command."),
    ("cisco_ios", '% Ambiguous command:  "sh"'),
]


def test_every_inventory_platform_has_a_record() -> None:
    assert tuple(PLATFORMS) == INVENTORY_PLATFORMS == get_args(Platform)
    with pytest.raises(DeviceError, match=r"unknown platform 'junos'"):
        platform("junos")


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_each_record_is_one_vendor_module_whose_parts_agree(name: str) -> None:
    record = PLATFORMS[name]
    assert record.name == record.cli.name == record.dialect.name == name
    assert record.comment in record.dialect.comments
    assert set(record.naming.acls) == {"mgmt", "snmp", "party"}


@pytest.mark.parametrize(("platform", "prompt", "mode"), PROMPTS)
def test_prompts_end_an_answer_only_at_its_end(platform: str, prompt: str, mode: str) -> None:
    record = get_platform(platform)
    answer = f"display this\n some output\n{prompt}"
    assert record.any_prompt_re.search(answer)
    assert bool(record.config_re.search(answer)) == (mode == "config")
    # VRP and Comware have no enable level: their user view is where configuration starts.
    privileged = mode == "privileged" or (mode == "exec" and platform != "cisco_ios")
    assert bool(record.privileged_re.search(answer)) == privileged
    assert not record.any_prompt_re.search(f"{prompt}\nmore output follows\n")  # not the last thing


@pytest.mark.parametrize(("platform", "message"), ERRORS)
def test_error_messages_are_recognised(platform: str, message: str) -> None:
    record = get_platform(platform)
    answer = f"some command\n{' ' * 12}^\n{message}\n\n<prompt>"
    found = record.errors_re.findall(answer)
    assert [f.strip() for f in found] == [message]


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_ordinary_output_is_not_an_error(platform: str) -> None:
    record = get_platform(platform)
    output = "Info: Save the configuration successfully.\n description Error: none\n interface Vlan10\n"
    assert not record.errors_re.search(output)


def test_save_dialogue_patterns() -> None:
    vrp = get_platform("huawei_vrp")
    question = re.compile(vrp.save_dialogue[0].question, re.M)
    asked = "save\nWarning: The current configuration will be written to the device. Are you sure to continue? [Y/N]:"
    assert question.search(asked) and vrp.save_dialogue[0].answer == "y"
    assert question.search("Continue?[Y/N]:")


@pytest.mark.parametrize(
    ("platform", "line", "delim"),
    [
        ("cisco_ios", "banner motd ^", "^"),
        ("cisco_ios", "banner login %Authorised only%", None),
        ("huawei_vrp", "header login information %", "%"),
        ("h3c_comware", "header motd #", "#"),
        ("cisco_ios", "snmp-server location lab", None),
    ],
)
def test_blocks(platform: str, line: str, delim: str | None) -> None:
    assert get_platform(platform).block_delimiter(line) == delim
