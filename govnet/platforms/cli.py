"""The CLI part of a platform record: how a session drives a device, as data.

One frozen record per platform (``govnet.platforms.<vendor>``), read by the one ``Session`` class
(STYLE.md: vendor differences are data, not subclasses with copied methods). netmiko is used as the transport only: its
``device_type`` logs in and prepares the terminal; everything after that is driven by the
prompts below, so no step ever waits for "silence" (FIELD-NOTES: stock ``huawei`` spends
~11.6 s per push in such waits).

Prompt patterns are matched with ``re.MULTILINE`` against what the device sent since the last
command and end in ``\\Z``: a prompt is the last thing a device prints before it waits for input,
so a prompt-like line inside output (a banner line ``<Warning>``) never ends a read early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

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
class CliRecord:
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

        >>> from govnet.platforms import cli_record
        >>> CISCO_IOS = cli_record("cisco_ios")
        >>> CISCO_IOS.may_ask("no username admin")
        True
        >>> CISCO_IOS.may_ask("username admin privilege 15 secret x")
        False
        """
        text = line.strip()
        return any(d.after is not None and re.search(d.after, text) for d in self.line_dialogue)

    def refusal(self, text: str) -> str | None:
        """Why this record must not drive a device that printed ``text`` (``None``: it may).

        >>> from govnet.platforms import cli_record
        >>> HUAWEI_VRP = cli_record("huawei_vrp")
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

        >>> from govnet.platforms import cli_record
        >>> CISCO_IOS = cli_record("cisco_ios")
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
