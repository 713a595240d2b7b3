"""What differs between Huawei VRP, H3C Comware and Cisco IOS, as data.

One frozen record per platform, read by the one ``Session`` class (STYLE.md: vendor differences
are data, not subclasses with copied methods). netmiko is used as the transport only: its
``device_type`` logs in and prepares the terminal; everything after that is driven by the
prompts below, so no step ever waits for "silence" (FIELD-NOTES: stock ``huawei`` spends
~11.6 s per push in such waits).

Prompt patterns are matched with ``re.MULTILINE`` against what the device sent since the last
command and end in ``\\Z``: a prompt is the last thing a device prints before it waits for input,
so a prompt-like line inside output (a banner line ``<Warning>``) never ends a read early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

from govnet.errors import DeviceError

_END = r"[ \t]*\Z"


@dataclass(frozen=True)
class Dialogue:
    """One question a command may ask, and the answer to give (an empty answer is Enter)."""

    question: str
    """Pattern ending in ``\\Z``; scoped flags only (``(?i:…)``): it is joined with others."""
    answer: str


@dataclass(frozen=True)
class PlatformRecord:
    """Everything the session needs to know about one platform's CLI."""

    name: str
    device_type: str
    """netmiko driver used to log in and prepare the terminal."""
    exec_prompt: str
    """User view (VRP/Comware ``<NAME>``) or user EXEC (IOS ``NAME>``)."""
    privileged_prompt: str
    config_prompt: str
    """System view and every sub-view; IOS ``(config)`` and every ``(config-…)`` mode."""
    paging_off: str
    config_enter: str
    config_leave: str
    show_running: str
    save: str
    save_dialogue: tuple[Dialogue, ...]
    save_done: str
    """Pattern the save output must contain; anything else means the device did not save."""
    error_patterns: tuple[str, ...]
    """Line patterns of the device's error messages (matched per answer, ``re.MULTILINE``)."""
    running_preamble: tuple[str, ...] = ()
    """Lines printed before the configuration proper; dropped from ``running_config()``."""
    enable: str | None = None
    """Command raising privileges before configuration mode; ``None`` when logins are privileged."""
    enable_password: str = r"(?i:password):\s*\Z"  # noqa: S105 (a prompt pattern)
    block_start: str | None = None
    """A line opening a multi-line block (banner) with its delimiter as group ``delim``; the
    device answers the block's lines with no prompt until the line holding the delimiter."""
    logout: str = "quit"
    batch_lines: int = 32
    """At most this many pushed lines in one write (``Session.push``'s ``stays``); 1: one at a time."""
    batch_bytes: int = 2048
    """… and at most this many bytes: well inside what a vty's input buffer takes while busy."""

    @cached_property
    def exec_re(self) -> re.Pattern[str]:
        return re.compile(self.exec_prompt + _END, re.M)

    @cached_property
    def privileged_re(self) -> re.Pattern[str]:
        return re.compile(self.privileged_prompt + _END, re.M)

    @cached_property
    def config_re(self) -> re.Pattern[str]:
        return re.compile(self.config_prompt + _END, re.M)

    @cached_property
    def any_prompt_re(self) -> re.Pattern[str]:
        parts = (self.exec_prompt, self.privileged_prompt, self.config_prompt)
        return re.compile("(?:" + "|".join(parts) + ")" + _END, re.M)

    @cached_property
    def next_prompt_re(self) -> re.Pattern[str]:
        """A prompt inside a batch's answers: followed on its line by the next line's echo, or
        the end of what has come so far (an output line is never just a prompt-like word)."""
        parts = (self.exec_prompt, self.privileged_prompt, self.config_prompt)
        return re.compile("(?:" + "|".join(parts) + r")(?=[^\r\n]|\Z)", re.M)

    @cached_property
    def errors_re(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.error_patterns), re.M)

    @cached_property
    def preamble_re(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.running_preamble)

    @cached_property
    def block_re(self) -> re.Pattern[str] | None:
        return None if self.block_start is None else re.compile(self.block_start)

    def block_delimiter(self, line: str) -> str | None:
        """The delimiter of a block ``line`` opens and does not close on the same line.

        >>> CISCO_IOS.block_delimiter("banner motd %")
        '%'
        >>> CISCO_IOS.block_delimiter("banner motd %Authorised access only%") is None
        True
        """
        if self.block_re is None:
            return None
        match = self.block_re.match(line.strip())
        if match is None:
            return None
        delim = match.group("delim")
        return None if delim in line.strip()[match.end() :] else delim


HUAWEI_VRP = PlatformRecord(
    name="huawei_vrp",
    device_type="huawei",
    exec_prompt=r"^(?:HRP_[MS]|RBM_[PS])?<[^\s<>\[\]]+>",
    privileged_prompt=r"^(?:HRP_[MS]|RBM_[PS])?<[^\s<>\[\]]+>",
    config_prompt=r"^(?:HRP_[MS]|RBM_[PS])?\[[^\s<>\[\]]+\]",
    paging_off="screen-length 0 temporary",
    config_enter="system-view",
    config_leave="return",
    show_running="display current-configuration",
    save="save",
    save_dialogue=(Dialogue(r"(?i:continue)\?\s*\[[Yy]/[Nn]\]:?\s*\Z", "y"),),
    save_done=r"(?i)successfully",
    error_patterns=(r"^Error:.*$",),
    running_preamble=(r"^!Software Version ",),
    block_start=r"^header (?:login|shell) information (?P<delim>\S)",
)

H3C_COMWARE = replace(
    HUAWEI_VRP,
    name="h3c_comware",
    device_type="hp_comware",
    paging_off="screen-length disable",
    # ``save force`` writes the next-startup file without the three-question dialogue of
    # ``save`` (which also differs between Comware releases).
    save="save force",
    save_dialogue=(),
    save_done=r"(?i)successfully",
    error_patterns=(
        r"^% Unrecognized command.*$",
        r"^% Incomplete command.*$",
        r"^% Too many parameters.*$",
        r"^% Wrong parameter.*$",
        r"^% Ambiguous command.*$",
    ),
    running_preamble=(),
    block_start=r"^header (?:motd|login|shell|legal|incoming) (?P<delim>\S)",
)

_IOS_NAME = r"[^\s<>\[\]()#]+"
CISCO_IOS = PlatformRecord(
    name="cisco_ios",
    device_type="cisco_ios",
    exec_prompt=rf"^{_IOS_NAME}>",
    privileged_prompt=rf"^{_IOS_NAME}#",
    config_prompt=rf"^{_IOS_NAME}\(config[^()\s]*\)#",
    paging_off="terminal length 0",
    config_enter="configure terminal",
    config_leave="end",
    show_running="show running-config",
    save="write memory",
    save_dialogue=(),
    save_done=r"\[OK\]",
    error_patterns=(
        r"^% Invalid input.*$",
        r"^% Incomplete command.*$",
        r"^% Ambiguous command.*$",
    ),
    running_preamble=(r"^Building configuration\.\.\.$", r"^$", r"^Current configuration : \d+ bytes$"),
    enable="enable",
    block_start=r"^banner (?:motd|login|exec|incoming) (?P<delim>\S)",
    logout="exit",
)

PLATFORMS: dict[str, PlatformRecord] = {p.name: p for p in (HUAWEI_VRP, H3C_COMWARE, CISCO_IOS)}


def get_platform(name: str) -> PlatformRecord:
    """The record of an inventory platform name; a ``DeviceError`` lists the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        known = ", ".join(PLATFORMS)
        raise DeviceError(f"unknown platform {name!r} (known: {known})") from None
