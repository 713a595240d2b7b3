"""The configuration-language part of a platform record, as data.

A ``Dialect`` says how a configuration is displayed (separators, trailer, banners, preamble) and
how to change it safely: which lines govnet owns, which lines a rendered line claims on the
device, which commands the device overwrites in place (no negation needed), how to remove a
line, which sections must be rewritten whole, and which lines the device never shows.
``govnet.rollout.remediate`` applies these rules on top of hier_config; see its docstring for
the managed scope they define.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def pairs(*pairs: tuple[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), s) for p, s in pairs)


@dataclass(frozen=True)
class Dialect:
    """One platform's display syntax and remediation rule set (all patterns match a line's text
    without indentation; ``keys`` and ``replaces`` apply to the text without its negation)."""

    name: str
    hier: str
    """hier_config ``Platform`` member used for diffing."""
    negation: str
    exit: str
    comments: tuple[str, ...]
    trailer: str
    noise: tuple[re.Pattern[str], ...]
    """Display lines that are not configuration (preamble, IOS's exit-address-family)."""
    block: re.Pattern[str] | None
    """A banner opener; its ``delim`` group closes it (maybe on a later line)."""
    sequence: tuple[re.Pattern[str], re.Pattern[str]] | None
    """(section header, prefix): entry numbers dropped inside such sections (IOS ACLs)."""
    views: tuple[tuple[re.Pattern[str], str], ...]
    """Headers that open a view even with no sub-lines, with the word that leaves it."""
    owned: tuple[tuple[re.Pattern[str], str], ...]
    """Top-level lines govnet owns outright (removed when not intended), with their kind."""
    shared: tuple[re.Pattern[str], ...]
    """Sections govnet only contributes lines to; the rest of their body is the operator's."""
    keys: tuple[re.Pattern[str], ...]
    """A line claims the device's lines with the same key (the pattern's groups)."""
    replaces: tuple[re.Pattern[str], ...]
    """Keys whose new value overwrites the old on the device: no negation is sent."""
    negations: tuple[tuple[re.Pattern[str], str], ...]
    """How to remove a line: ``re.sub`` replacement giving the text after the negation word."""
    rewrite: tuple[re.Pattern[str], ...]
    """Ordered sections (entry order matters): any difference rewrites them whole."""
    resend: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]
    """(trigger, lines): changing a trigger line wipes those lines on the device; send them again."""
    write_only: tuple[tuple[re.Pattern[str], str], ...]
    """Lines the device accepts but never shows, with the anchor (format over the groups) whose
    absence means they must be sent."""
