"""Load an inventory: files → sections → inheritance → models → semantic checks.

``load()`` either returns a valid inventory (with warnings) or raises one
``InventoryError`` carrying every problem found, each ``FILE:LINE: field: message``,
sorted by file and line, so an engineer fixes them in one pass.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from govnet.errors import InventoryError, Problem
from govnet.inventory import models
from govnet.inventory.merge import Inheritance, problem, read_sections, suggest
from govnet.inventory.models import SECRET_REF_RE, Inventory
from govnet.inventory.validate import check
from govnet.inventory.yamlsrc import Mark, MDict, MList, locate

SECRET_KEY_RE = re.compile(r"(password|passwd|secret|community|auth_key|priv_key|token|psk)$", re.IGNORECASE)

PATTERN_HELP = {
    models.ID_RE: "must be lowercase ASCII letters, digits and '-', starting with a letter (2-48 characters)",
    models.SLUG_RE: "must be lowercase ASCII words joined by '-'",
    models.HOSTNAME_RE: "must be an ASCII host name (letters, digits, '.', '-', '_')",
    models.VRF_RE: "must be an ASCII VRF name starting with a letter",
}


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
        problems.extend(_from_pydantic(exc, resolved))
        raise InventoryError(_ordered(problems)) from None
    warnings: list[Problem] = []
    for finding in check(inventory, today):
        where = locate(resolved, finding.path)
        found = problem(finding.message, where, _field(finding.path, resolved))
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


def _field(path: tuple[int | str, ...], resolved: MDict) -> str:
    """``units[fgw].devices[0].platform``: list items of the top sections shown by id."""
    out = ""
    node: Any = resolved
    for depth, key in enumerate(path):
        if isinstance(key, int):
            label: str = str(key)
            if depth == 1 and isinstance(node, list) and key < len(node) and isinstance(node[key], dict):
                label = str(node[key].get("id", key))
            out += f"[{label}]"
        else:
            out += f".{key}" if out else key
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
    return out


def _from_pydantic(exc: ValidationError, resolved: MDict) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        where = locate(resolved, loc[:-1] if error["type"] == "missing" else loc)
        problems.append(problem(_message(error, loc), where, _field(loc, resolved) or None))
    return problems


def _message(error: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        hint = suggest(str(loc[-1]), allowed) if allowed else ""
        return f"unknown key{hint}" + (f"; allowed: {', '.join(allowed)}" if allowed and not hint else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        return PATTERN_HELP.get(pattern, f"must match {pattern}")
    if kind == "literal_error":
        expected = str((error.get("ctx") or {}).get("expected", "")).replace("'", "")
        return f"must be one of: {expected.replace(' or ', ', ')}"
    if kind == "union_tag_invalid":
        return f"must be one of: {(error.get('ctx') or {}).get('expected_tags', '')}".replace("'", "")
    message = error["msg"].removeprefix("Value error, ")
    return message[0].lower() + message[1:] if message else kind


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the model that sits at ``loc`` (for 'did you mean')."""
    current: Any = Inventory
    for key in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(key))
            if info is None:
                continue  # a union tag such as 'v3'
            current = info.annotation
        else:
            current = _inner(current, key)
        current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional down to the model or container type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models_ = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models_[0] if models_ else args[0]
        else:
            return tp


def _inner(tp: Any, key: int | str) -> Any:
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin is list and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return tp


__all__ = ["Loaded", "Mark", "load"]
