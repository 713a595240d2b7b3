"""Pydantic validation errors turned into ``FILE:LINE: field: message`` problems.

Shared by every strictly loaded YAML file (inventory, daemon config): the model says what is
wrong, the marked YAML tree says where.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from govnet.errors import Problem
from govnet.inventory import models
from govnet.inventory.merge import problem, suggest
from govnet.inventory.yamlsrc import MDict, locate

PATTERN_HELP = {
    models.ID_RE: "must be lowercase ASCII letters, digits and '-', starting with a letter (2-48 characters)",
    models.SLUG_RE: "must be lowercase ASCII words joined by '-'",
    models.HOSTNAME_RE: "must be an ASCII host name (letters, digits, '.', '-', '_')",
    models.VRF_RE: "must be an ASCII VRF name starting with a letter",
    models.SERIAL_RE: "must be a serial number (ASCII letters, digits, '.', '-', '_', '/'; 1-64 characters)",
}


def field_path(path: tuple[int | str, ...], resolved: MDict) -> str:
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


def from_pydantic(exc: ValidationError, resolved: MDict, root: type[BaseModel]) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        where = locate(resolved, loc[:-1] if error["type"] == "missing" else loc)
        problems.append(problem(_message(error, loc, root), where, field_path(loc, resolved) or None))
    return problems


def _message(error: ErrorDetails, loc: tuple[int | str, ...], root: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(root, loc[:-1])
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


def _fields_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the model that sits at ``loc`` (for 'did you mean')."""
    current: Any = root
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
