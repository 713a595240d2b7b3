"""Load an inventory: files → sections → inheritance → models → semantic checks.

``load()`` either returns a valid inventory (with warnings) or raises one
``InventoryError`` carrying every problem found, each ``FILE:LINE: field: message``,
sorted by file and line, so an engineer fixes them in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from govnet.errors import InventoryError, Problem
from govnet.inventory.merge import Inheritance, problem, read_sections
from govnet.inventory.models import SECRET_REF_RE, Inventory
from govnet.inventory.problems import field_path, from_pydantic
from govnet.inventory.validate import check
from govnet.inventory.yamlsrc import Mark, MDict, MList, locate

SECRET_KEY_RE = re.compile(r"(password|passwd|secret|community|auth_key|priv_key|token|psk)$", re.IGNORECASE)


@dataclass(frozen=True)
class Loaded:
    """A valid inventory and what the engineer should still look at."""

    inventory: Inventory
    warnings: list[Problem] = field(default_factory=list)
    path: Path = Path("inventory")


def load(path: Path | str, today: date | None = None) -> Loaded:
    """Load and validate an inventory file or folder; raise ``InventoryError`` listing every problem."""
    path = Path(path)
    sections = read_sections(path)
    inheritance = Inheritance(sections)
    resolved = _resolve(sections, inheritance)
    problems = [*inheritance.problems, *_plaintext_secrets(sections, ())]
    try:
        inventory = Inventory.model_validate(resolved)
    except ValidationError as exc:
        problems.extend(from_pydantic(exc, resolved, Inventory))
        raise InventoryError(_ordered(problems)) from None
    warnings: list[Problem] = []
    for finding in check(inventory, today):
        where = locate(resolved, finding.path)
        found = problem(finding.message, where, field_path(finding.path, resolved))
        (warnings if finding.warning else problems).append(found)
    if problems:
        raise InventoryError(_ordered(problems))
    return Loaded(inventory, _ordered(warnings), path)


def _resolve(sections: MDict, inheritance: Inheritance) -> MDict:
    resolved = MDict(sections.mark)
    for key, value in sections.items():
        mark = sections.mark_of(key)
        if key in ("nodes", "units") and isinstance(value, MList):
            applied = MList(value.mark)
            for index, raw in enumerate(value):
                element = (
                    inheritance.apply(raw, f"{key}[{raw.get('id', index)}]")
                    if isinstance(raw, MDict)
                    else raw
                )
                applied.push(element, value.mark_of(index))
            resolved.put(key, applied, mark)
        elif key not in ("defaults", "groups"):
            resolved.put(key, value, mark)
    if "site" not in resolved:
        resolved.put("site", None, sections.mark)
    resolved["group_names"] = sorted(inheritance.groups)
    return resolved


def _plaintext_secrets(node: Any, path: tuple[str | int, ...]) -> list[Problem]:
    """Any key that names a secret must hold a reference, wherever it appears (data: included)."""
    found: list[Problem] = []
    if isinstance(node, MDict):
        for key, value in node.items():
            if (
                SECRET_KEY_RE.search(key)
                and isinstance(value, str | int)
                and not SECRET_REF_RE.match(str(value))
            ):
                message = "plaintext secret refused; write a reference: env:VARIABLE or file:PATH"
                found.append(problem(message, node.mark_of(key), key))
            else:
                found.extend(_plaintext_secrets(value, (*path, key)))
    elif isinstance(node, MList):
        for index, value in enumerate(node):
            found.extend(_plaintext_secrets(value, (*path, index)))
    return found


def _ordered(problems: list[Problem]) -> list[Problem]:
    unique: dict[tuple[str | None, int | None, str], Problem] = {}
    for p in problems:
        unique.setdefault((p.file, p.line, p.message), p)
    return sorted(unique.values(), key=lambda p: (p.file or "", p.line or 0, p.message))


__all__ = ["Loaded", "Mark", "load"]
