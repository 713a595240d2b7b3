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


QUESTION = (
    r"(?:\?|\[(?:[YyNn]/[YyNn]|[Yy]es/[Nn]o|confirm)\]|\((?:[YyNn]/[YyNn]|[Yy]es/[Nn]o)\)"
    r"|\bpress\b[^\r\n]*\bto continue\b[^\r\n]*|:)"
)
"""What the end of any question looks like: ``?``, ``[Y/N]``, ``[confirm]``, ``(y/n)``, "Press …
to continue", or a ``:``. A read whose text stops at such an ending, with no prompt and nothing
more for ``QUESTION_SETTLE`` seconds, is a question: a known one is answered, an unknown one
ends the operation at once, quoting it (instead of waiting for a prompt until the timeout)."""

QUESTION_SETTLE = 0.6
"""Seconds of silence after a question-like ending before it counts as a question (output
lines may end in ``:`` or ``?`` and go on a moment later)."""

QUESTION_LINE = r"^.*(?:\[(?:[YyNn]/[YyNn]|[Yy]es/[Nn]o|confirm)\]|\((?:[YyNn]/[YyNn]|[Yy]es/[Nn]o)\)).*$"
"""A line holding an unmistakable question, found inside the answers to one write of several
lines (the device took the next line as its answer): the push stops there."""


@dataclass(frozen=True)
class Dialogue:
    """One question a command may ask, and the answer to give (an empty answer is Enter).

    ``question`` is a pattern of the question's last line(s); the session anchors it at the
    end of what the device sent. Scoped flags only (``(?i:…)``): it is joined with others.
    ``after`` is a pattern (``re.search`` on the stripped line) of the lines that may ask it,
    for line dialogues: such a line always goes out alone, never inside a write of several.
    """

    question: str
    answer: str
    after: str | None = None


@dataclass(frozen=True)
class HiddenDefault:
    """An intended top-level line a device may not show because it equals its default
    (``govnet.devices.normalise.satisfied_defaults``): in force while absent, as long as no
    ``contrary`` line is shown and the running config matches ``firmware`` (``None``: any)."""

    line: str
    contrary: str
    """Pattern (``re.M``) of a running-config line that undoes the default (it is not in force)."""
    firmware: str | None = None
    """Pattern (``re.M``) of the running config's version line on firmware with this default."""


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
    line_dialogue: tuple[Dialogue, ...] = ()
    """Questions a configuration line may ask (``Dialogue.after`` names the lines)."""
    login_dialogue: tuple[Dialogue, ...] = ()
    """Questions a device may ask right after login, before its first prompt."""
    refused_prompts: tuple[tuple[str, str], ...] = ()
    """(prompt pattern, reason): prompts of a related platform this record must not drive."""
    caret_errors: bool = True
    """A line holding only ``^`` (the device's column marker) means the next line is an error
    message, whatever it says: an error form missing from ``error_patterns`` is still one."""
    volatile: tuple[str, ...] = ()
    """Line patterns of running-config text that changes by itself (clock discipline, last-change
    stamps, version and timestamp headers): dropped before every hash and comparison
    (``govnet.devices.normalise.stable_text``), kept in backups."""
    hidden_defaults: tuple[HiddenDefault, ...] = ()
    """Intended lines the device does not show because they equal its default."""

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
    def caret_re(self) -> re.Pattern[str] | None:
        """The line after a marker line holding only ``^`` (see ``caret_errors``)."""
        return re.compile(r"^[ \t]*\^[ \t]*\r?\n[ \t]*(\S[^\r\n]*)$", re.M) if self.caret_errors else None

    @cached_property
    def question_line_re(self) -> re.Pattern[str]:
        return re.compile(QUESTION_LINE, re.M)

    def may_ask(self, line: str) -> bool:
        """Whether a configuration line may ask one of the line dialogue's questions.

        >>> CISCO_IOS.may_ask("no username admin")
        True
        >>> CISCO_IOS.may_ask("username admin privilege 15 secret x")
        False
        """
        text = line.strip()
        return any(d.after is not None and re.search(d.after, text) for d in self.line_dialogue)

    def refusal(self, text: str) -> str | None:
        """Why this record must not drive a device that printed ``text`` (``None``: it may).

        >>> HUAWEI_VRP.refusal("[~CORE-1]") is not None
        True
        >>> HUAWEI_VRP.refusal("[CORE-1]") is None
        True
        """
        for pattern, reason in self.refused_prompts:
            if re.search(pattern + _END, text, re.M):
                return reason
        return None

    @cached_property
    def volatile_re(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.volatile)

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


# Running-config lines that change by themselves (``PlatformRecord.volatile``; where each is
# recorded: govnet/devices/conformance.md).
_VRP_VOLATILE = (
    r"^\[V\d{3}R\d{3}\w*\]$",  # AR routers' first line: [V200R007C00SPC600]
    r"^!Software Version ",
    r"^!Last configuration was (?:updated|saved) at ",  # VRP8
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? ?(?:[+-]\d{2}:\d{2})?$",  # command timestamp
)
_COMWARE_VOLATILE = (r"^ ?version \d+\.\d+\S*, \w+ \S+",)  # " version 7.1.070, Release 6328"
_IOS_VOLATILE = (
    r"^! Last configuration change at ",
    r"^! NVRAM config last updated at ",
    r"^! No configuration change since last restart",
    r"^ntp clock-period \d+$",
    r"^Current configuration : \d+ bytes$",
    r"^Load for five secs: ",  # terminal exec prompt timestamp
    r"^Time source is ",
)
# Telnet is off by default on VRP V200R010 and later and on Comware 7 (Comware 5 had it on, and
# shows ``undo telnet server enable``): a disabled telnet server is shown by nothing.
_TELNET_OFF = HiddenDefault("undo telnet server enable", r"^\s*telnet server enable\b")
_VRP_TELNET_OFF = r"^(?:\[|!Software Version )V(?:200R(?:01\d|0[2-9]\d)|[3-9]\d\dR)"
"""VRP V200R010 or later (V300R…): seen only where the version line reaches the text (AR's
``[V200R…]``; the session drops ``!Software Version``), so elsewhere the line must show."""


_YN = r"\s*\[[Yy]/[Nn]\]:?"
"""VRP and Comware ask ``[Y/N]``, ``[Y/N]:`` and, on some releases, ``[y/n]`` (netmiko #986)."""

VRP_SAVE = (
    Dialogue(r"(?i:continue)\s*\?" + _YN, "y"),
    # A router with two flash cards asks again for the slave board (napalm-huawei-vrp #18).
    Dialogue(r"(?i:save the configuration to slave)[^\r\n]*\?" + _YN, "y"),
    Dialogue(r"(?i:exists,\s*overwrite)\s*\?" + _YN, "y"),
    Dialogue(r"(?i:please input the file name)[^\r\n]*:", ""),
)

HUAWEI_VRP = PlatformRecord(
    name="huawei_vrp",
    device_type="huawei",
    exec_prompt=r"^(?:HRP_[MS]|RBM_[PS])?<[^\s<>\[\]]+>",
    privileged_prompt=r"^(?:HRP_[MS]|RBM_[PS])?<[^\s<>\[\]]+>",
    config_prompt=r"^(?:HRP_[MS]|RBM_[PS])?\[(?![~*])[^\s<>\[\]]+\]",
    paging_off="screen-length 0 temporary",
    config_enter="system-view",
    config_leave="return",
    show_running="display current-configuration",
    save="save",
    save_dialogue=VRP_SAVE,
    save_done=r"(?i)successfully",
    error_patterns=(r"^Error\s*:.*$",),
    running_preamble=(r"^!Software Version ",),
    block_start=r"^header (?:login|shell) information (?P<delim>\S)",
    line_dialogue=(
        Dialogue(
            r"(?i:continue)\s*\?" + _YN,
            "y",
            after=r"^(?:undo local-user \S+$|undo ssh user |undo snmp-agent$|rsa local-key-pair )",
        ),
    ),
    login_dialogue=(
        # Password expiry / first login (netmiko #1776, #1505): "N" keeps the password.
        Dialogue(r"(?i:change now)\s*\?" + _YN, "n"),
        # Newer VRP5 asks to re-save a configuration file with weak ciphers (netmiko's huawei
        # driver): govnet saves only as part of a rollout, so it declines here.
        Dialogue(r"(?i:security risks? in the configuration file)[^\r\n]*" + _YN, "n"),
    ),
    refused_prompts=(
        (
            r"^(?:HRP_[MS]|RBM_[PS])?\[[~*][^\s<>\[\]]+\]",
            "the device runs Huawei VRP8 (two-stage configuration, prompt [~NAME], changes need "
            "'commit'); platform huawei_vrp drives VRP5 only and VRP8 is not supported yet: "
            "nothing was changed",
        ),
    ),
    volatile=_VRP_VOLATILE,
    hidden_defaults=(replace(_TELNET_OFF, firmware=_VRP_TELNET_OFF),),
)

H3C_COMWARE = replace(
    HUAWEI_VRP,
    name="h3c_comware",
    device_type="hp_comware",
    config_prompt=r"^(?:HRP_[MS]|RBM_[PS])?\[[^\s<>\[\]]+\]",
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
    line_dialogue=(
        Dialogue(
            r"(?i:continue)\s*\?" + _YN,
            "y",
            after=r"^(?:undo local-user \S+(?: class \S+)?$|undo vlan |public-key local (?:create|destroy) )",
        ),
    ),
    login_dialogue=(
        # A Comware banner that waits for a key (HPE 1910/1920 and similar).
        Dialogue(r"(?i:press\s+y\s+or\s+enter\s+to\s+continue)[^\r\n]*", "y"),
    ),
    refused_prompts=(),
    volatile=_COMWARE_VOLATILE,
    hidden_defaults=(replace(_TELNET_OFF, firmware=r"^ ?version 7\."),),
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
    # Asked after an image upgrade, when NVRAM was written by another version (netmiko #1561).
    save_dialogue=(Dialogue(r"(?i:overwrite the previous nvram configuration)\s*\?\s*\[confirm\]", ""),),
    save_done=r"\[OK\]",
    error_patterns=(
        r"^% Invalid input.*$",
        r"^% Incomplete command.*$",
        r"^% Ambiguous command.*$",
        # Semantic errors, some without the "%" (napalm #1846, #1481; ansible cisco.ios #81, #216).
        r"^%\s?Error\b.*$",
        r"^%\s?Bad\b.*$",
        r"^Bad mask\b.*$",
        r"^(?i:command rejected)\b.*$",
        r"^%.*\boverlaps with\b.*$",
    ),
    running_preamble=(r"^Building configuration\.\.\.$", r"^$", r"^Current configuration : \d+ bytes$"),
    enable="enable",
    block_start=r"^banner (?:motd|login|exec|incoming) (?P<delim>\S)",
    logout="exit",
    line_dialogue=(
        # "no username X" (netmiko #1688, #2004): Enter confirms.
        Dialogue(r"(?i:do you want to continue)\s*\?\s*\[confirm\]", "", after=r"^no username \S+"),
        # Replacing or removing RSA keys (ntc-ansible #157).
        Dialogue(
            r"(?i:do you really want to (?:replace|remove) (?:them|these keys))\s*\?\s*\[yes/no\]:",
            "yes",
            after=r"^crypto key (?:generate|zeroize) rsa\b",
        ),
    ),
    volatile=_IOS_VOLATILE,
)

PLATFORMS: dict[str, PlatformRecord] = {p.name: p for p in (HUAWEI_VRP, H3C_COMWARE, CISCO_IOS)}


def get_platform(name: str) -> PlatformRecord:
    """The record of an inventory platform name; a ``DeviceError`` lists the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        known = ", ".join(PLATFORMS)
        raise DeviceError(f"unknown platform {name!r} (known: {known})") from None
