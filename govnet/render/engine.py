"""Templates → one device's intended configuration, in parts that know their kind.

``render_device`` is deterministic: the same inventory and templates give the same text, byte
for byte, which is what golden files, plan staleness checks and idempotent rollouts rely on.
Every failure a template author can cause (missing file, syntax error, undefined variable,
unknown filter, a secret written in clear, non-ASCII text) becomes one ``TemplateError`` line,
``FILE:LINE: message``, never a traceback.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from govnet.errors import GovnetError, Problem, TemplateError
from govnet.inventory.models import Device, Inventory, Node, Unit
from govnet.platforms import platform as platform_record
from govnet.render.context import KINDS, base_context
from govnet.render.secrets import clear_secret, placeholder
from govnet.resources import data_dir

MARKER_RE = re.compile(r"^[#!] govnet part (?P<kind>[a-z]+) (?P<template>\S+)$")
"""The comment that opens each part in the intended text, so the text alone tells line kinds."""
BANNER_RE = re.compile(r"^\s*(?:header \S+(?: information)?|banner \S+) (?P<text>.*)$")
BANNER_FORBIDDEN = ">]#"
TEMPLATES = data_dir("configs")
"""The templates govnet ships (a checkout's own ``configs/``): what a caller naming none renders."""


@dataclass(frozen=True)
class Part:
    """One rendered template: its kind (drift category), the template used and its text."""

    kind: str
    template: str
    text: str


@dataclass(frozen=True)
class Rendered:
    """The intended configuration of one device.

    ``template_hash`` covers every template file used (includes too), ``render_hash`` the text
    alone, so neither moves when an unrelated unit of the site changes.
    """

    element: str
    device: str
    platform: str
    text: str
    parts: tuple[Part, ...]
    template_hash: str
    render_hash: str

    def kinds(self) -> list[str]:
        return [p.kind for p in self.parts]


_ENVIRONMENTS: dict[str, jinja2.Environment] = {}


def environment(templates: Path) -> jinja2.Environment:
    """One Jinja environment per templates folder: strict undefined, no autoescaping (this is
    device configuration, not HTML), templates reloaded when their files change."""
    key = str(templates)
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(key),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701 (device configuration, not HTML)
            auto_reload=True,
        )
        env.globals["secret"] = placeholder
        _ENVIRONMENTS[key] = env
    return env


def render_device(
    inv: Inventory, element: Unit | Node, device: Device, templates: Path = TEMPLATES
) -> Rendered:
    """The full intended configuration of ``device`` (of ``element``), part by part.

    Parts, in order: ``baseline``; ``intranet``, ``party``, ``extranet`` for each segment the
    device carries; ``uplink`` for each interconnect landing on it.
    """
    env = environment(templates)
    context = base_context(inv, element, device)
    platform = device.platform
    jobs: list[tuple[str, dict[str, Any]]] = [("baseline", {})]
    jobs += [(name, {"segment": view}) for name, view in context["segments"].items()]
    jobs += [("uplink", {"uplink": view}) for view in context["uplinks"]]
    jobs.sort(key=lambda job: KINDS.index(job[0]))
    parts = []
    for kind, extra in jobs:
        name = f"{platform}/{kind}.j2"
        text = _render(env, templates, name, {**context, **extra, "kind": kind})
        parts.append(Part(kind, name, text))
    comment = platform_record(platform).comment
    lines: list[str] = []
    for part in parts:
        lines.append(f"{comment} govnet part {part.kind} {part.template}")
        lines.extend(part.text.split("\n"))
    lines.append(comment)
    text = "\n".join(lines) + "\n"
    return Rendered(
        element=element.id,
        device=device.name,
        platform=platform,
        text=text,
        parts=tuple(parts),
        template_hash=_templates_hash(env, templates, [p.template for p in parts]),
        render_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


def render_element(inv: Inventory, element: Unit | Node, templates: Path = TEMPLATES) -> list[Rendered]:
    return [render_device(inv, element, device, templates) for device in element.devices]


def render_inventory(inv: Inventory, templates: Path = TEMPLATES) -> Iterator[Rendered]:
    """Every device of every node and unit, nodes first."""
    elements: list[Unit | Node] = [*inv.nodes, *inv.units]
    for element in elements:
        yield from render_element(inv, element, templates)


def _render(env: jinja2.Environment, templates: Path, name: str, context: Mapping[str, Any]) -> str:
    path = str(templates / name)
    try:
        template = env.get_template(name)
        raw = template.render(context)
    except jinja2.TemplateSyntaxError as exc:  # unknown filters and tests land here too
        where = str(templates / exc.name) if exc.name else path
        raise TemplateError(Problem(exc.message or "syntax error", where, exc.lineno)) from None
    except jinja2.TemplateNotFound as exc:
        file, line = _template_frame(exc, templates)
        if file is None:  # the part's own template is missing
            raise TemplateError(Problem("template not found", path)) from None
        raise TemplateError(Problem(f"template not found: {exc.name}", file, line)) from None
    except GovnetError as exc:
        file, line = _template_frame(exc, templates)
        raise TemplateError(Problem(exc.problems[0].message, file or path, line)) from None
    except Exception as exc:  # noqa: BLE001 (any error inside a template is the template's)
        file, line = _template_frame(exc, templates)
        message = str(exc) if isinstance(exc, jinja2.UndefinedError) else f"{type(exc).__name__}: {exc}"
        raise TemplateError(Problem(message, file or path, line)) from None
    text = _tidy(raw)
    _check(text, env, name, path)
    return text


def _template_frame(exc: BaseException, templates: Path) -> tuple[str | None, int | None]:
    """The innermost template file and line in the traceback (Jinja rewrites frames to them)."""
    found: tuple[str | None, int | None] = (None, None)
    root = str(templates)
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2") and (filename.startswith(root) or not Path(filename).is_absolute()):
            found = (filename, lineno)
    return found


def _tidy(raw: str) -> str:
    """Drop trailing blanks and empty lines: templates may be laid out for reading."""
    lines = [line.rstrip() for line in raw.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def _check(text: str, env: jinja2.Environment, name: str, path: str) -> None:
    """Refuse what would leak or break a session: clear secrets, non-ASCII, bad banner text."""
    for line in text.split("\n"):
        message = None
        if clear_secret(line):
            message = "secret written in clear; use secret(...)"
        elif not line.isascii():
            message = "non-ASCII text; device CLIs and netmiko expect ASCII (use ids and slugs)"
        else:
            banner = BANNER_RE.match(line)
            text = banner.group("text") if banner else ""
            if any(c in text for c in BANNER_FORBIDDEN):
                message = "banner text holds one of > ] # (they break prompt detection)"
            elif banner and (len(text) < 2 or text.count(text[0]) != 2 or not text.endswith(text[0])):
                message = "banner must be one line between two delimiters, without the delimiter inside"
        if message is not None:
            raise TemplateError(Problem(message, path, _locate(env, name, line)))


def _locate(env: jinja2.Environment, name: str, rendered: str) -> int | None:
    """The template line that most likely wrote ``rendered``: the longest literal prefix match."""
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    target = rendered.strip()
    best: tuple[int, int] | None = None
    for number, line in enumerate(source.split("\n"), start=1):
        literal = re.split(r"\{[{%#]", line, maxsplit=1)[0].strip()
        if literal and target.startswith(literal) and (best is None or len(literal) > best[1]):
            best = (number, len(literal))
    return best[0] if best else None


_REFERENCES: dict[str, tuple[str, ...]] = {}


def _references(env: jinja2.Environment, source: str) -> tuple[str, ...]:
    """The templates ``source`` includes or extends, parsed once per distinct source text
    (parsing every template again for every device was most of a render's CPU)."""
    found = _REFERENCES.get(source)
    if found is None:
        refs = jinja2.meta.find_referenced_templates(env.parse(source))
        found = _REFERENCES[source] = tuple(ref for ref in refs if ref is not None)
    return found


def _templates_hash(env: jinja2.Environment, templates: Path, names: list[str]) -> str:
    """sha256 over the names and sources of the templates used and everything they include."""
    assert env.loader is not None
    seen: dict[str, str] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        source, _, _ = env.loader.get_source(env, name)
        seen[name] = source
        pending.extend(_references(env, source))
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + b"\0" + seen[name].encode() + b"\0")
    return digest.hexdigest()
