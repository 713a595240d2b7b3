"""Configuration text (rendered or displayed by a device) read into a tree of lines.

Intended and running configurations are compared section by section, so both are read the same
way: indentation gives the hierarchy; an unindented separator (``#``/``!``) closes every open
section (that is how Comware's one-space-indented global lines stay global); the display
preamble, the trailer and IOS's ``exit-address-family`` are not configuration; a multi-line
banner is one line. ``# govnet part KIND TEMPLATE`` markers (written by the renderer) give each
line its part kind, so the intended text alone says which drift category a line belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from govnet.platforms import Dialect
from govnet.render.engine import MARKER_RE


@dataclass
class Line:
    """One configuration line, its sub-lines and the part kind it belongs to."""

    text: str
    children: list[Line] = field(default_factory=list)
    kind: str = "baseline"

    def find(self, text: str) -> Line | None:
        return next((c for c in self.children if c.text == text), None)

    def copy(self, kind: str | None = None) -> Line:
        """A deep copy, re-labelled with ``kind`` when given."""
        new_kind = self.kind if kind is None else kind
        return Line(self.text, [c.copy(kind) for c in self.children], new_kind)

    def walk(self, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Line]]:
        """Every descendant with its path (ancestor texts, itself last)."""
        for child in self.children:
            here = (*path, child.text)
            yield here, child
            yield from child.walk(here)


def parse(dialect: Dialect, text: str) -> Line:
    """Read configuration text into a tree (root ``Line`` with empty text).

    >>> from govnet.platforms import dialect
    >>> root = parse(dialect("h3c_comware"), "#\\n sysname A\\n#\\ninterface X\\n ip address 1.1.1.1 255.0.0.0\\n#\\n ntp-service enable\\n")
    >>> [(c.text, len(c.children)) for c in root.children]
    [('sysname A', 0), ('interface X', 1), ('ntp-service enable', 0)]
    """
    root = Line("")
    children: dict[int, dict[str, Line]] = {}  # id(parent) -> its children by text
    stack: list[tuple[int, Line]] = []
    kind = "baseline"
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        raw = lines[index].rstrip()
        index += 1
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if not stripped or (dialect.noise and any(p.match(stripped) for p in dialect.noise)):
            continue
        marker = MARKER_RE.match(stripped)
        if marker is not None:
            kind = marker.group("kind")
            stack.clear()
            continue
        if stripped.startswith(dialect.comments) or (indent == 0 and stripped == dialect.trailer):
            if indent == 0:
                stack.clear()
            continue
        stripped = " ".join(stripped.split())
        opener = dialect.block.match(stripped) if dialect.block is not None else None
        if opener is not None and opener.group("delim") not in stripped[opener.end() :]:
            block = [stripped]
            while index < len(lines):
                block.append(lines[index].rstrip())
                index += 1
                if opener.group("delim") in block[-1]:
                    break
            stripped = "\n".join(block)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else root
        if dialect.sequence is not None and dialect.sequence[0].match(parent.text):
            stripped = dialect.sequence[1].sub("", stripped)
        known = children.setdefault(id(parent), {})
        node = known.get(stripped)
        if node is None:  # a repeated section merges into the first, as the device would
            node = known[stripped] = Line(stripped, kind=kind)
            parent.children.append(node)
        stack.append((indent, node))
    return root
