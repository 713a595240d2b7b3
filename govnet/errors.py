"""One error tree for everything a user can cause.

The CLI turns a ``GovnetError`` into one line per problem on stderr and an exit code;
anything else escaping is a bug in govnet, not in the user's input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in one place: ``FILE:LINE: field: message`` when a file is involved."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class GovnetError(Exception):
    """Base of every error a user can cause; exit code 1 unless a subclass says otherwise."""

    exit_code = 1

    def __init__(self, message: str | Problem | Sequence[Problem]) -> None:
        if isinstance(message, str):
            problems: tuple[Problem, ...] = (Problem(message),)
        elif isinstance(message, Problem):
            problems = (message,)
        else:
            problems = tuple(message)
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def at(
        cls,
        message: str,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> GovnetError:
        return cls(Problem(message, file, line, field))

    def lines(self) -> Iterable[str]:
        return (str(p) for p in self.problems)


class UsageError(GovnetError):
    """The command line itself is wrong (exit 2)."""

    exit_code = 2


class InventoryError(GovnetError):
    """The inventory cannot be loaded or does not validate."""


class ConfigError(GovnetError):
    """A daemon or lab configuration file is invalid."""


class TemplateError(GovnetError):
    """A configuration template is missing, broken or refers to unknown data."""


class DeviceError(GovnetError):
    """A device refused a command, failed authentication or could not be reached."""


class LabError(GovnetError):
    """The lab twin cannot be built, changed or torn down."""


class StateError(GovnetError):
    """The state store (runs, backups, audit) is unusable or inconsistent."""


class SafetyError(GovnetError):
    """An operation would send traffic outside the allowed networks."""
