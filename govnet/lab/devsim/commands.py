"""Exec-mode command recognition: unique-prefix abbreviations, errors with a position, filters.

Vendor CLIs accept any unambiguous abbreviation of each keyword (``sh run``, ``wr mem``,
``screen-length 0 temp``) and netmiko relies on that (it sends ``write mem`` and ``screen-length
0 temporary``). When a line is not recognised, the CLI points at the first word it could not
match; ``match_exec`` returns that position so the shell can draw the caret line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from govnet.lab.devsim.editor import LineVerdict
from govnet.lab.devsim.personality import ExecCommand

_FILTERS = ("include", "exclude", "begin")


@dataclass(frozen=True)
class Token:
    """A word of the typed line and the column it starts at."""

    text: str
    column: int


def tokenize(line: str) -> list[Token]:
    """Words with their columns.

    >>> [(t.text, t.column) for t in tokenize("  sh  run")]
    [('sh', 2), ('run', 6)]
    """
    return [Token(m.group(), m.start()) for m in re.finditer(r"\S+", line)]


@dataclass(frozen=True)
class ExecMatch:
    """The recognised command and its arguments, or the verdict and caret column.

    For a recognised command, ``column`` is where its first argument is (or would be).
    """

    command: ExecCommand | None
    args: tuple[str, ...] = ()
    verdict: LineVerdict = LineVerdict.OK
    column: int = 0
    ambiguous: bool = field(default=False)


def _leading_matches(words: Sequence[str], tokens: Sequence[Token]) -> int:
    count = 0
    for word, token in zip(words, tokens, strict=False):
        if not word.startswith(token.text.lower()):
            break
        count += 1
    return count


def match_exec(commands: Sequence[ExecCommand], line: str, privileged: bool, offset: int = 0) -> ExecMatch:
    """Recognise an exec line; ``offset`` is added to error columns (text before ``line``).

    >>> from govnet.lab.devsim.platforms import get_platform
    >>> cmds = get_platform("cisco_ios").exec_commands
    >>> match_exec(cmds, "wr mem", privileged=True).command.words
    ('write', 'memory')
    >>> match_exec(cmds, "show bogus", privileged=True).column
    5
    """
    tokens = tokenize(line)
    if not tokens:
        return ExecMatch(None, verdict=LineVerdict.INCOMPLETE, column=offset)
    viable: list[ExecCommand] = []
    best = 0
    incomplete = False
    for command in commands:
        if command.privileged and not privileged:
            continue
        count = _leading_matches(command.words, tokens)
        best = max(best, count)
        if count == len(command.words) and (count == len(tokens) or command.takes_args):
            viable.append(command)
        elif count == len(tokens) < len(command.words):
            incomplete = True
    if viable:
        for command in viable:
            typed = [t.text.lower() for t in tokens[: len(command.words)]]
            if typed == list(command.words):
                return _with_args(command, tokens, offset)
        if len({c.words for c in viable}) > 1:
            column = tokens[0].column + offset
            return ExecMatch(None, verdict=LineVerdict.UNKNOWN, column=column, ambiguous=True)
        return _with_args(viable[0], tokens, offset)
    if incomplete:
        end = tokens[-1].column + len(tokens[-1].text) + 1
        return ExecMatch(None, verdict=LineVerdict.INCOMPLETE, column=end + offset)
    return ExecMatch(None, verdict=LineVerdict.UNKNOWN, column=tokens[best].column + offset)


def _with_args(command: ExecCommand, tokens: Sequence[Token], offset: int) -> ExecMatch:
    args = tokens[len(command.words) :]
    last = tokens[-1]
    column = args[0].column if args else last.column + len(last.text) + 1
    return ExecMatch(command, tuple(t.text for t in args), column=column + offset)


def split_filter(line: str) -> tuple[str, str | None]:
    """Split ``show run | include x`` into the command and the filter text."""
    command, sep, filt = line.partition(" | ")
    return (command, filt.strip()) if sep else (line, None)


def apply_filter(lines: list[str], filt: str) -> list[str] | None:
    """Apply ``include``/``exclude``/``begin REGEX`` (abbreviations allowed); ``None`` if bad.

    >>> apply_filter(["a 1", "b 2", "a 3"], "inc ^a")
    ['a 1', 'a 3']
    >>> apply_filter(["a", "b", "c"], "begin b")
    ['b', 'c']
    """
    word, _, expr = filt.partition(" ")
    kinds = [k for k in _FILTERS if word and k.startswith(word.lower())]
    if len(kinds) != 1 or not expr.strip():
        return None
    try:
        pattern = re.compile(expr.strip())
    except re.error:
        return None
    if kinds[0] == "include":
        return [line for line in lines if pattern.search(line)]
    if kinds[0] == "exclude":
        return [line for line in lines if not pattern.search(line)]
    for index, line in enumerate(lines):
        if pattern.search(line):
            return lines[index:]
    return []
