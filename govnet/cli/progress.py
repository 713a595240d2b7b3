"""Progress of a command working on many devices, fitted to where it runs (on stderr, so
``--json`` on stdout stays clean).

On a terminal: a live bar, each finished unit printed above it with its result. Anywhere else (a
CI job, ``tee``, a systemd timer): one plain line per unit as it finishes, in the order they
finish — ``unit sz-jiwei changed 4.2s``, ``unit yc-quwei failed 1.3s: cannot connect: …`` — that
a log keeps and grep reads. ``NO_COLOR`` turns colour off (rich reads it); ``--quiet`` turns
progress off. Both are hooks of ``govnet.rollout.runner``: they see what every run reports.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from govnet.rollout.runner import Hooks, Job, Summary, UnitResult

F = TypeVar("F", bound=Callable[..., Any])
Describe = Callable[[UnitResult[Any]], str]
"""The word a finished unit is shown with (default: its result: ``changed``, ``failed``…)."""
STYLE = {"changed": "green", "ok": "dim", "failed": "red", "restored": "yellow", "skipped": "yellow"}


def line(result: UnitResult[Any], word: str) -> str:
    """One finished unit as a plain line.

    >>> line(UnitResult("u-017", "sw", "changed", seconds=4.23), "changed")
    'unit u-017 changed 4.2s'
    >>> line(UnitResult("u-020", "sw", "failed", "cannot connect: timeout", seconds=1.0), "failed")
    'unit u-020 failed 1.0s: cannot connect: timeout'
    """
    return f"unit {result.unit} {word} {result.seconds:.1f}s" + (
        f": {result.reason}" if result.reason else ""
    )


class Lines(Hooks):
    """One line per finished unit, flushed at once (a pipe would otherwise hold them)."""

    def __init__(self, describe: Describe, stream: TextIO | None = None) -> None:
        self.describe, self.stream = describe, stream

    def unit_finished(self, result: UnitResult[Any]) -> None:
        stream = self.stream or sys.stderr
        stream.write(line(result, self.describe(result)) + "\n")
        stream.flush()


class Bar(Hooks):
    """A rich bar on stderr, with each finished unit printed above it.

    No refresh thread (``auto_refresh=False``): worker processes are forked while the bar is
    up, and a fork must not copy a thread that may hold the terminal's lock; it redraws at each
    event instead."""

    def __init__(self, what: str, describe: Describe) -> None:
        self.describe = describe
        self.bar = Progress(
            TextColumn(escape(what)),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
            console=Console(stderr=True, highlight=False),
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.bar.add_task(what, total=None)

    def run_started(self, jobs: Sequence[Job[Any]]) -> None:
        self.bar.update(self.task, total=len(jobs))
        self.bar.start()
        self.bar.refresh()

    def unit_finished(self, result: UnitResult[Any]) -> None:
        word = self.describe(result)
        rest = line(result, word).removeprefix(f"unit {result.unit} {word}")
        self.bar.console.print(
            Text.assemble(f"unit {result.unit} ", (word, STYLE.get(result.status, "")), rest)
        )
        self.bar.advance(self.task)
        self.bar.refresh()

    def run_finished(self, results: Sequence[UnitResult[Any]], summary: Summary) -> None:
        self.close()

    def close(self) -> None:
        self.bar.stop()


@contextlib.contextmanager
def progress(
    what: str, quiet: bool = False, describe: Describe = lambda r: r.status
) -> Iterator[list[Hooks]]:
    """The hooks that show a run's progress here: a bar on a terminal, lines elsewhere, none
    when ``quiet``; the bar is taken down however the run ends."""
    if quiet:
        yield []
    elif sys.stderr.isatty():
        bar = Bar(what, describe)
        try:
            yield [bar]
        finally:
            bar.close()
    else:
        yield [Lines(describe)]


def quiet_option(func: F) -> F:
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="No progress on stderr (a bar on a terminal, else a line per unit).",
    )(func)
