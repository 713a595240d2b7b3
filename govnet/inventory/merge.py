"""Folder merge and group inheritance, on the marked YAML tree.

Inheritance works like Nornir's: an element's own keys win over its groups (the first
listed group wins over later ones, a group over its parent groups), and groups win over
``defaults``. Mappings merge key by key; lists and scalars are replaced whole. Because the
merge runs on marked mappings, an inherited value keeps the mark of the line that set it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from govnet.errors import InventoryError, Problem
from govnet.inventory.yamlsrc import Mark, MDict, MList, load_yaml, read_text

SECTIONS = ("site", "segments", "contacts", "defaults", "groups", "nodes", "units", "uplinks", "systems")
SINGLE = ("site", "defaults")  # may be defined in one file only
KEYED = ("segments", "contacts", "groups")  # merged key by key across files
LISTED = ("nodes", "units", "uplinks", "systems")  # concatenated across files
ELEMENT_ONLY = ("id", "name", "slug")  # never inherited


def problem(message: str, mark: Mark | None, field: str | None = None) -> Problem:
    if mark is None:
        return Problem(message, field=field)
    return Problem(message, mark.file, mark.line, field)


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def inventory_files(path: Path) -> list[Path]:
    """The YAML files of an inventory: one file, or every *.yml / *.yaml under a folder."""
    try:
        path.stat()
    except FileNotFoundError:
        raise InventoryError(f"{path}: no such file or folder (set --inventory PATH)") from None
    except OSError as exc:  # e.g. a folder on the way that this user may not enter
        raise InventoryError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InventoryError(f"{path}: not a regular file or a folder (set --inventory PATH)")
    files = sorted(
        p
        for p in path.rglob("*")
        if p.suffix in (".yml", ".yaml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not files:
        raise InventoryError(f"{path}: folder holds no .yml or .yaml files")
    return files


def shown_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_sections(path: Path) -> MDict:
    """Read every file and merge their top-level sections into one marked mapping."""
    files = inventory_files(path)
    merged = MDict(Mark(shown_name(files[0]), 1))
    problems: list[Problem] = []
    for file in files:
        shown = shown_name(file)
        try:
            doc = load_yaml(read_text(file, shown), shown)
        except InventoryError as exc:
            problems.extend(exc.problems)
            continue
        for key, value in doc.items():
            mark = doc.mark_of(key)
            if key not in SECTIONS:
                problems.append(problem(f"unknown section{suggest(key, SECTIONS)}", mark, key))
            elif key in SINGLE:
                if key in merged:
                    first = merged.mark_of(key)
                    problems.append(problem(f"defined twice (first at {first})", mark, key))
                elif not isinstance(value, MDict):
                    problems.append(problem("must be a mapping", mark, key))
                else:
                    merged.put(key, value, mark)
            else:
                _merge_section(merged, key, value, mark, problems)
    if problems:
        raise InventoryError(problems)
    return merged


def _merge_section(merged: MDict, key: str, value: Any, mark: Mark, problems: list[Problem]) -> None:
    """One more file's section ``key`` into ``merged``: a KEYED one (a mapping) name by name, a
    name defined twice being a problem; a LISTED one (a list) appended."""
    if value is None:
        return
    kind: type[MDict] | type[MList] = MDict if key in KEYED else MList
    if not isinstance(value, kind):
        problems.append(problem("must be a mapping" if kind is MDict else "must be a list", mark, key))
        return
    target: Any = merged.get(key)  # the same kind as ``value``: only this function puts it
    if target is None:
        target = kind(value.mark)
        merged.put(key, target, mark)
    if isinstance(value, MDict):
        for name, item in value.items():
            if name in target:
                first = target.mark_of(name)
                problems.append(
                    problem(f"defined twice (first at {first})", value.mark_of(name), f"{key}.{name}")
                )
            else:
                target.put(name, item, value.mark_of(name))
    else:
        for index, item in enumerate(value):
            target.push(item, value.mark_of(index))


def deep_merge(base: MDict, over: MDict) -> MDict:
    """``over`` on top of ``base``; nested mappings merge, everything else is replaced."""
    out = MDict(over.mark)
    for key, value in base.items():
        out.put(key, value, base.mark_of(key))
    for key, value in over.items():
        old = out.get(key)
        if isinstance(old, MDict) and isinstance(value, MDict):
            out.put(key, deep_merge(old, value), over.mark_of(key))
        else:
            out.put(key, value, over.mark_of(key))
    return out


class Inheritance:
    """Applies ``defaults`` and ``groups`` to nodes and units."""

    def __init__(self, sections: MDict) -> None:
        self.problems: list[Problem] = []
        raw_defaults = sections.get("defaults")
        self.defaults = raw_defaults if isinstance(raw_defaults, MDict) else None
        raw_groups = sections.get("groups")
        self.groups: dict[str, MDict] = {}
        self.group_marks: dict[str, Mark] = {}
        if isinstance(raw_groups, MDict):
            for name, body in raw_groups.items():
                mark = raw_groups.mark_of(name)
                if not isinstance(body, MDict):
                    self.problems.append(problem("a group must be a mapping", mark, f"groups.{name}"))
                    continue
                for key in ELEMENT_ONLY:
                    if key in body:
                        self.problems.append(
                            problem(
                                "cannot be set by a group",
                                body.mark_of(key),
                                f"groups.{name}.{key}",
                            )
                        )
                self.groups[name] = body
                self.group_marks[name] = mark
        for layer, where in ((self.defaults, "defaults"),):
            if layer is not None:
                for key in ELEMENT_ONLY:
                    if key in layer:
                        self.problems.append(
                            problem("cannot be set in defaults", layer.mark_of(key), f"{where}.{key}")
                        )
        self._expanded: dict[str, list[MDict]] = {}
        for name in self.groups:
            self._expand(name, ())

    def _group_parents(self, name: str) -> list[tuple[str, Mark]]:
        body = self.groups[name]
        parents = body.get("groups")
        if parents is None:
            return []
        if not isinstance(parents, MList):
            self.problems.append(
                problem("must be a list of group names", body.mark_of("groups"), f"groups.{name}.groups")
            )
            return []
        return [(str(p), parents.mark_of(i)) for i, p in enumerate(parents)]

    def _expand(self, name: str, stack: tuple[str, ...]) -> list[MDict]:
        """Layers of a group, lowest priority first; a cycle is an error, not a hang."""
        if name in self._expanded:
            return self._expanded[name]
        layers: list[MDict] = []
        for parent, mark in reversed(self._group_parents(name)):
            if parent in stack or parent == name:
                cycle = " -> ".join([*stack, name, parent])
                self.problems.append(
                    problem(f"cycle in group inheritance: {cycle}", mark, f"groups.{name}.groups")
                )
            elif parent not in self.groups:
                self.problems.append(
                    problem(
                        f"unknown group '{parent}'{suggest(parent, self.groups)}",
                        mark,
                        f"groups.{name}.groups",
                    )
                )
            else:
                layers.extend(self._expand(parent, (*stack, name)))
        own = MDict(self.groups[name].mark)
        for key, value in self.groups[name].items():
            if key != "groups":
                own.put(key, value, self.groups[name].mark_of(key))
        layers.append(own)
        self._expanded[name] = layers
        return layers

    def apply(self, element: MDict, where: str) -> MDict:
        """The element with defaults, groups and device defaults folded in."""
        layers: list[MDict] = [self.defaults] if self.defaults is not None else []
        names = element.get("groups", [])
        if isinstance(names, MList):
            for index in reversed(range(len(names))):
                name = str(names[index])
                if name in self.groups:
                    layers.extend(self._expand(name, ()))
                else:
                    self.problems.append(
                        problem(
                            f"unknown group '{name}'{suggest(name, self.groups)}",
                            names.mark_of(index),
                            f"{where}.groups",
                        )
                    )
        result = element
        for layer in reversed(layers):
            result = deep_merge(layer, result)
        return _fold_device_defaults(result)


def _fold_device_defaults(element: MDict) -> MDict:
    """``device:`` (from the element, a group or defaults) is merged into every device."""
    if "device" not in element:
        return element
    common = element["device"]
    out = MDict(element.mark)
    for key, value in element.items():
        if key != "device":
            out.put(key, value, element.mark_of(key))
    if not isinstance(common, MDict):
        out.put("device", common, element.mark_of("device"))  # the model reports it
        return out
    devices = element.get("devices")
    if devices is None:
        out.put("devices", _one(common, element.mark_of("device")), element.mark_of("device"))
    elif isinstance(devices, MList):
        merged = MList(devices.mark)
        for index, device in enumerate(devices):
            value = deep_merge(common, device) if isinstance(device, MDict) else device
            merged.push(value, devices.mark_of(index))
        out.put("devices", merged, element.mark_of("devices"))
    return out


def _one(device: MDict, mark: Mark) -> MList:
    devices = MList(mark)
    devices.push(device, mark)
    return devices
