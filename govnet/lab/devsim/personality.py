"""The shape of a device personality: prompts, paging, errors, syntax, saving.

These records hold everything that differs between vendor CLIs, so that one shell class and
one config editor serve every platform (STYLE.md: vendor differences are data). The records
themselves live in ``platforms.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Action(Enum):
    """What an exec-mode command does; the shell maps each action to one method."""

    SHOW_RUNNING = "show-running"
    SHOW_STARTUP = "show-startup"
    SHOW_VERSION = "show-version"
    SHOW_THIS = "show-this"
    PAGING_SET = "paging-set"
    PAGING_OFF = "paging-off"
    PAGING_ON = "paging-on"
    WIDTH = "width"
    ENABLE = "enable"
    DISABLE = "disable"
    CONFIG = "config"
    SAVE = "save"
    SAVE_NOW = "save-now"
    COPY_RUN_START = "copy-run-start"
    LOGOUT = "logout"


@dataclass(frozen=True)
class ExecCommand:
    """An exec command: keywords the user may abbreviate to any unique prefix."""

    words: tuple[str, ...]
    action: Action
    privileged: bool = False
    takes_args: bool = False


@dataclass(frozen=True)
class SectionRule:
    """A config line that opens a sub-view (``interface X``, ``ip vpn-instance X`` …).

    ``label`` is a ``str.format`` template over the regex groups (``{1}`` …) and the enclosing
    view's label (``{parent}``); it becomes the ``[NAME-label]`` / ``NAME(label)#`` prompt.
    ``parent`` names the ``kind`` of view the rule is valid in; ``None`` means system view.
    """

    pattern: re.Pattern[str]
    kind: str
    label: str
    parent: str | None = None


@dataclass(frozen=True)
class DialogStep:
    """One question of a confirmation dialogue; a yes/no step aborts on anything but y."""

    question: str
    yes_no: bool = True


@dataclass(frozen=True)
class Prompts:
    """Prompt templates; ``{name}`` is the current sysname/hostname, ``{view}`` the label."""

    user: str
    privileged: str
    config: str
    view: str
    starts_privileged: bool
    enable_password: str = "Password: "  # noqa: S105 (a prompt)
    enable_denied: str = "% Bad secrets"
    login_notice: str = ""
    config_notice: str = ""


@dataclass(frozen=True)
class Paging:
    """How long output pauses: the More prompt, how it is erased, lines per page."""

    more: str
    erase: str
    page_lines: int = 24
    off_notice: str = ""


@dataclass(frozen=True)
class Errors:
    """Error texts; the caret line above them is added by the shell."""

    unknown: str
    incomplete: str
    ambiguous: str
    blank_line_after: bool = False


@dataclass(frozen=True)
class Syntax:
    """Config-mode vocabulary and how the running configuration is written out."""

    negation: str
    exit_one: str
    exit_all: str
    extra_exits: frozenset[str]
    comment_prefixes: tuple[str, ...]
    separator: str
    trailer: str
    top_leaf_indent: str
    exec_prefix: str | None
    exec_words: frozenset[str]
    hostname_keyword: str
    keywords: frozenset[str]
    bare_keywords: frozenset[str]
    sections: tuple[SectionRule, ...]
    global_prefixes: tuple[str, ...]
    replace_rules: tuple[re.Pattern[str], ...]
    kept_negations: tuple[re.Pattern[str], ...]
    block_start: re.Pattern[str] | None
    block_notice: str = ""
    interface_types: tuple[str, ...] = ()
    interface_aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Saving:
    """Save commands' dialogues and the lines printed on success."""

    dialog: tuple[DialogStep, ...]
    done: tuple[str, ...]
    copy_dialog: tuple[DialogStep, ...] = ()
    cancelled: str = ""


@dataclass(frozen=True)
class Personality:
    """One vendor personality; see the module docstring."""

    name: str
    prompts: Prompts
    paging: Paging
    errors: Errors
    syntax: Syntax
    saving: Saving
    exec_commands: tuple[ExecCommand, ...]
    running_preamble: tuple[str, ...]
    version_text: str
    ssh_version: str
    hidden_defaults: tuple[str, ...] = ()
    """Lines equal to the device's default: with the ``hides-defaults`` quirk, never shown."""
    hides_defaults: bool = False
    """Set on a device's copy of the record by the ``hides-defaults`` quirk."""
