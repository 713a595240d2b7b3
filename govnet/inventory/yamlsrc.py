"""Strict YAML reading that keeps where every value came from.

PyYAML silently keeps the last of two equal keys, expands aliases into shared references
(an "alias bomb" turns a few lines into billions of nodes once walked) and forgets line
numbers once it builds Python objects. An inventory error must name ``FILE:LINE``, so we
compose the node graph ourselves and build mappings and sequences that remember the mark of
each key and item. Aliases and anchors are refused: groups are the inventory's way to share.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from govnet.errors import InventoryError, Problem

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 48

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Mark:
    """A place in a source file: ``FILE:LINE`` (1-based)."""

    __slots__ = ("file", "line")

    def __init__(self, file: str, line: int) -> None:
        self.file = file
        self.line = line

    def __repr__(self) -> str:
        return f"{self.file}:{self.line}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mark) and (self.file, self.line) == (other.file, other.line)

    def __hash__(self) -> int:
        return hash((self.file, self.line))


class MDict(dict[str, Any]):
    """A mapping that remembers the mark of itself and of each of its keys."""

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[str, Mark] = {}

    def put(self, key: str, value: Any, mark: Mark) -> None:
        self[key] = value
        self.key_marks[key] = mark

    def mark_of(self, key: str) -> Mark:
        return self.key_marks.get(key, self.mark)


class MList(list[Any]):
    """A sequence that remembers the mark of itself and of each of its items."""

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[Mark] = []

    def push(self, value: Any, mark: Mark) -> None:
        self.append(value)
        self.item_marks.append(mark)

    def mark_of(self, index: int) -> Mark:
        return self.item_marks[index] if 0 <= index < len(self.item_marks) else self.mark


def mark_of(container: object, key: object) -> Mark | None:
    """The mark of ``container[key]`` if the container came from a file."""
    if isinstance(container, MDict) and isinstance(key, str):
        return container.mark_of(key)
    if isinstance(container, MList) and isinstance(key, int):
        return container.mark_of(key)
    return getattr(container, "mark", None)


def locate(root: object, path: tuple[int | str, ...]) -> Mark | None:
    """The mark of the deepest element of ``path`` that exists under ``root``."""
    best = getattr(root, "mark", None)
    node = root
    for key in path:
        if isinstance(node, dict) and key not in node:
            continue  # a union tag or a key the model added: stay at this level
        here = mark_of(node, key)
        if here is not None:
            best = here
        try:
            node = node[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
    return best


def _fail(file: str, line: int, message: str) -> InventoryError:
    return InventoryError(Problem(message, file, line))


def read_text(path: Path, shown: str) -> str:
    """Read a file as strict UTF-8, with the line of the first bad byte in the error."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise InventoryError(Problem("not a regular file", shown))
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise InventoryError(Problem(f"file is {size} bytes, over the {MAX_FILE_BYTES} limit", shown))
        data = path.read_bytes()
    except OSError as exc:
        raise InventoryError(Problem(f"cannot read: {exc.strerror or exc}", shown)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _fail(
            shown, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def load_yaml(text: str, shown: str) -> MDict:
    """Parse one YAML document whose top level must be a mapping."""
    if "\x00" in text:
        raise _fail(shown, text.count("\n", 0, text.index("\x00")) + 1, "NUL character in file")
    try:
        documents = list(yaml.compose_all(text, Loader=Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise _fail(shown, line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise _fail(shown, 1, f"YAML error: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise _fail(shown, 1, "YAML nesting too deep") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise _fail(shown, 1, "file is empty (no YAML document)")
    if len(documents) > 1:
        raise _fail(shown, documents[1].start_mark.line + 1, "more than one YAML document ('---') in file")
    root = documents[0]
    if not isinstance(root, yaml.MappingNode):
        raise _fail(shown, root.start_mark.line + 1, "top level must be a mapping of sections")
    result = _Builder(shown).build(root, 0)
    assert isinstance(result, MDict)
    return result


class _Builder:
    """Turns a composed node graph into MDict / MList / plain scalars."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.seen: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()

    def mark(self, node: yaml.Node) -> Mark:
        return Mark(self.file, node.start_mark.line + 1)

    def build(self, node: yaml.Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _fail(self.file, node.start_mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels")
        if id(node) in self.seen or getattr(node, "anchor", None):
            raise _fail(
                self.file,
                node.start_mark.line + 1,
                "YAML anchors and aliases are not allowed in the inventory; use groups to share values",
            )
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            seq = MList(self.mark(node))
            for item in node.value:
                seq.push(self.build(item, depth + 1), self.mark(item))
            return seq
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise _fail(self.file, node.start_mark.line + 1, f"bad value: {exc.problem}") from None
        except ValueError as exc:
            raise _fail(self.file, node.start_mark.line + 1, f"bad value: {exc}") from None

    def _mapping(self, node: yaml.MappingNode, depth: int) -> MDict:
        out = MDict(self.mark(node))
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise _fail(self.file, line, "mapping keys must be plain text")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _fail(self.file, line, "YAML merge keys ('<<') are not allowed; use groups")
            key = key_node.value
            if key in out:
                first = out.mark_of(key).line
                raise _fail(self.file, line, f"{key}: duplicate key (first defined at line {first})")
            out.put(key, self.build(value_node, depth + 1), Mark(self.file, line))
        return out
