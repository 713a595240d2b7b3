"""A plan as a reviewer reads it: per unit, the lines that will be added and removed, as a diff.

``rollout plan`` and ``rollout show PLAN`` print the same text, so what was reviewed on screen
is what the saved plan holds. The lines come from the plan's ``added``/``removed`` (each with its
section path, ``interface X > ip address …``); the sections are shown once as context, like
``diff -u`` shows a hunk's header. Secrets never appear: intended lines keep their
``<<secret:…>>`` placeholders, and a line read from a device that carries a secret value
(a community, a password hash) is masked before it is stored in the plan (``mask_line``).

Pure functions over a plan: colour is a separate step (``paint``), chosen by the caller for a
terminal only (``use_colour``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from govnet.render.secrets import MASK, PLACEHOLDER_RE, SECRET_BEARING
from govnet.rollout.planfile import Plan, PlanUnit

PATH_SEPARATOR = " > "
_SECRET_KEYWORD = re.compile(
    r"\b(?:password|secret|cipher|community|authentication-mode|privacy-mode|auth|priv)\s+"
)
_COLOURS = {"+": "\x1b[32m", "-": "\x1b[31m", "=": "\x1b[1m", "!": "\x1b[33m"}
_RESET = "\x1b[0m"


def mask_line(line: str) -> str:
    """A configuration line (or section path) with any secret value it shows replaced by ``****``.

    Everything after the first secret keyword goes, so a second secret on the line (an SNMPv3
    user's privacy key after its auth key) goes too; placeholders are not secrets.

    >>> mask_line("snmp-agent community read cipher %^%#abc%^%# acl 2990")
    'snmp-agent community ****'
    >>> mask_line("aaa > local-user govnet password irreversible-cipher $1a$x$")
    'aaa > local-user govnet password ****'
    >>> mask_line("snmp-server user u1 G v3 auth sha K1 priv aes 128 K2")
    'snmp-server user u1 G v3 auth ****'
    >>> mask_line("local-user govnet password irreversible-cipher <<secret:env:P>>")
    'local-user govnet password irreversible-cipher <<secret:env:P>>'
    >>> mask_line("ssh user govnet authentication-type password")
    'ssh user govnet authentication-type password'
    """
    head, sep, last = line.rpartition(PATH_SEPARATOR)
    if PLACEHOLDER_RE.search(last) or not SECRET_BEARING.search(last):
        return line
    keyword = _SECRET_KEYWORD.search(last)
    return f"{head}{sep}{last[: keyword.end()] if keyword else ''}{MASK}"


def header(unit: PlanUnit) -> str:
    """The unit's first line: what it is and what happens to it.

    >>> u = PlanUnit(id="sz-a", device="SZ-A", platform="huawei_vrp", host="10.0.0.1",
    ...              status="change", missing=2, extra=1)
    >>> header(u)
    '== sz-a (SZ-A, huawei_vrp): change +2 -1'
    """
    where = f"== {unit.id} ({unit.device}, {unit.platform})"
    if unit.status == "change":
        return f"{where}: change +{unit.missing} -{unit.extra}"
    if unit.status == "refused":
        return f"{where}: refused: {unit.reason}"
    return f"{where}: no change"


def diff_lines(added: Iterable[str], removed: Iterable[str]) -> list[str]:
    """``+``/``-`` lines under their sections (context lines start with a blank), removals first
    within a section, sections in the order they first appear.

    >>> print("\\n".join(diff_lines(
    ...     ["interface G1 > description new", "ntp-service unicast-server 10.0.0.9"],
    ...     ["interface G1 > description old"])))
      interface G1
    -   description old
    +   description new
    + ntp-service unicast-server 10.0.0.9
    """
    entries = [("-", mask_line(p).split(PATH_SEPARATOR)) for p in removed]
    entries += [("+", mask_line(p).split(PATH_SEPARATOR)) for p in added]
    order: dict[tuple[str, ...], int] = {}
    for _, parts in entries:
        order.setdefault(tuple(parts[:-1]), len(order))
    entries.sort(key=lambda e: order[tuple(e[1][:-1])])  # stable: removals stay first
    out: list[str] = []
    shown: list[str] = []
    for sign, parts in entries:
        parents = parts[:-1]
        common = 0
        while common < min(len(shown), len(parents)) and shown[common] == parents[common]:
            common += 1
        out += [f"  {'  ' * depth}{parents[depth]}" for depth in range(common, len(parents))]
        shown = parents
        out.append(f"{sign} {'  ' * len(parents)}{parts[-1]}")
    return out


def unit_lines(unit: PlanUnit) -> list[str]:
    """One unit: its header, then its diff when it changes."""
    body = diff_lines(unit.added, unit.removed) if unit.status == "change" else []
    if unit.status == "change" and not body:  # a reorder only, or a plan made before the diff
        body = [f"  ({len(unit.commands)} command(s); see --json for them)"]
    return [header(unit), *body]


def plan_lines(plan: Plan) -> list[str]:
    """Every unit of the plan, in plan order (what ``rollout plan`` and ``rollout show`` print)."""
    return [line for unit in plan.units for line in unit_lines(unit)]


def paint(line: str) -> str:
    """``line`` in ANSI colour by its first character (green added, red removed, bold header,
    yellow refused).

    >>> paint("+ a") == "\\x1b[32m+ a\\x1b[0m", paint("  ctx")
    (True, '  ctx')
    """
    kind = "!" if line.startswith("== ") and ": refused: " in line else line[:1]
    colour = _COLOURS.get(kind)
    return f"{colour}{line}{_RESET}" if colour else line


def use_colour(is_terminal: bool, environ: Mapping[str, str]) -> bool:
    """Colour on a terminal only, and never when ``NO_COLOR`` is set (https://no-color.org).

    >>> use_colour(True, {}), use_colour(True, {"NO_COLOR": "1"}), use_colour(False, {})
    (True, False, False)
    """
    return is_terminal and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"
