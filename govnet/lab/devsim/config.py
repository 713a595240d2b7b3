"""A device's configuration as an ordered tree, read from and written as vendor text.

Real devices keep configuration hierarchically (a section header such as ``interface X`` owns
the lines indented one space under it), display it in a fixed textual form, and read the same
form back at boot. Modelling it as a tree, rather than a list of lines, is what lets ``undo`` a
section header remove the whole section and what makes "re-enter a section to edit it" work.
Rendering and parsing are inverse: ``parse_config(render_config(t)) == t``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from govnet.lab.devsim.personality import Personality


@dataclass
class ConfigNode:
    """One configuration line and the lines under it (its section body), in device order.

    The root node has an empty ``text``. A multi-line block (a banner) is one node whose text
    holds embedded newlines, exactly as it is displayed.
    """

    text: str
    children: list[ConfigNode] = field(default_factory=list)
    seen: list[str] = field(default_factory=list, compare=False, repr=False)
    """Every child line this section has held, in device order, removed ones included."""

    def find(self, text: str) -> ConfigNode | None:
        """The child whose line is exactly ``text``."""
        for child in self.children:
            if child.text == text:
                return child
        return None

    def child(self, text: str) -> ConfigNode:
        """The child whose line is ``text``, placed if absent (entering a section)."""
        found = self.find(text)
        if found is None:
            found = ConfigNode(text)
            self.place(found)
        return found

    def place(self, node: ConfigNode) -> None:
        """Add ``node`` where the device's ordering puts it, not simply at the end.

        Real devices keep their configuration in a canonical order: a line removed and typed
        again shows where it stood, not at the bottom. The simulator stands in for each
        platform's ordering by remembering (``seen``) the order of every line a section has
        held; a line it has never held goes after the others.

        >>> root = ConfigNode("", [ConfigNode("a"), ConfigNode("b"), ConfigNode("c")])
        >>> root.remove(root.children[1]); root.place(ConfigNode("d")); root.place(ConfigNode("b"))
        >>> [c.text for c in root.children]
        ['a', 'b', 'c', 'd']
        """
        order = self._order()
        if node.text not in order:
            order.append(node.text)
            self.children.append(node)
            return
        later = set(order[order.index(node.text) + 1 :])
        index = next((i for i, c in enumerate(self.children) if c.text in later), len(self.children))
        self.children.insert(index, node)

    def remove(self, node: ConfigNode) -> None:
        """Remove a child line (its place is remembered for when it comes back)."""
        self._order()
        self.children.remove(node)

    def rename(self, node: ConfigNode, text: str) -> None:
        """Give a child a new value in place (``description``, ``ip address`` …)."""
        order = self._order()
        if text in order:
            order.remove(text)
        order.insert(order.index(node.text) + 1, text)
        node.text = text

    def _order(self) -> list[str]:
        """``seen``, brought up to date with lines added without ``place`` (parsing, copies)."""
        known = set(self.seen)
        for index, child in enumerate(self.children):
            if child.text not in known:
                before = self.children[index - 1].text if index else None
                at = self.seen.index(before) + 1 if before in known else len(self.seen)
                self.seen.insert(at, child.text)
                known.add(child.text)
        return self.seen

    def walk(self) -> Iterator[tuple[int, ConfigNode]]:
        """Every descendant with its depth (1 for top-level lines), in display order."""
        for child in self.children:
            yield 1, child
            for depth, node in child.walk():
                yield depth + 1, node

    def copy(self) -> ConfigNode:
        return ConfigNode(self.text, [c.copy() for c in self.children], list(self.seen))


def block_delimiter(platform: Personality, line: str) -> str | None:
    """The delimiter of a multi-line block (banner) that ``line`` opens but does not close.

    ``banner motd ^`` opens a block that ends at the next line containing ``^``; ``banner motd
    ^hello^`` is complete on one line and returns ``None``, like any ordinary line.

    >>> from govnet.lab.devsim.platforms import get_platform
    >>> block_delimiter(get_platform("cisco_ios"), "banner motd ^C")
    '^'
    >>> block_delimiter(get_platform("cisco_ios"), "banner motd ^Hello^") is None
    True
    """
    pattern = platform.syntax.block_start
    if pattern is None:
        return None
    match = pattern.match(line.strip())
    if match is None:
        return None
    delim = match.group("delim")
    rest = line.strip()[match.end() :]
    return None if delim in rest else delim


def parse_config(text: str, platform: Personality) -> ConfigNode:
    """Read displayed configuration text (``display current-configuration`` form) into a tree.

    Indentation gives the hierarchy; an unindented separator (``#`` / ``!``) closes every open
    section, which is how H3C's one-space-indented global lines stay at the top level.
    Preamble lines (``Building configuration...``), comments and the trailer are skipped.
    """
    root = ConfigNode("")
    stack: list[tuple[int, ConfigNode]] = []
    syntax = platform.syntax
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        raw = lines[index].rstrip()
        index += 1
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if not stripped or _is_preamble(stripped, platform):
            continue
        if stripped.startswith(syntax.comment_prefixes):
            if indent == 0:
                stack.clear()
            continue
        if indent == 0 and stripped == syntax.trailer:
            stack.clear()
            continue
        delim = block_delimiter(platform, stripped)
        if delim is not None:
            block = [raw]
            while index < len(lines):
                block.append(lines[index].rstrip("\r"))
                index += 1
                if delim in block[-1]:
                    break
            block[0] = stripped
            stripped = "\n".join(block)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else root
        node = ConfigNode(stripped)
        parent.children.append(node)
        stack.append((indent, node))
    return root


def _is_preamble(stripped: str, platform: Personality) -> bool:
    for line in platform.running_preamble:
        if "{size}" in line:
            prefix = line.split("{size}", 1)[0]
            if prefix and stripped.startswith(prefix.strip()):
                return True
        elif line and stripped == line.strip():
            return True
    return False


def render_config(root: ConfigNode, platform: Personality) -> str:
    """The configuration as the device displays (and stores) it, without the preamble.

    Top-level sections (a header with a body, or a header that opens a view even when empty,
    like ``vlan 1``) and runs of top-level lines are separated by the platform's separator
    line, sub-lines are indented one space per level, and the trailer (``return``/``end``)
    closes the text.
    """
    syntax = platform.syntax
    out: list[str] = [syntax.separator]
    previous_was_section = False
    headers = [r.pattern for r in syntax.sections if r.parent is None]
    for index, node in enumerate(root.children):
        is_section = bool(node.children) or any(h.match(node.text) for h in headers)
        if index > 0 and (is_section or previous_was_section):
            out.append(syntax.separator)
        indent = "" if is_section else syntax.top_leaf_indent
        out.append(indent + node.text)
        for depth, sub in node.walk():
            out.append(" " * depth + sub.text)
        previous_was_section = is_section
    if root.children:
        out.append(syntax.separator)
    out.append(syntax.trailer)
    return "\n".join(out) + "\n"


def section_text(node: ConfigNode) -> str:
    """One section as ``display this`` shows it: the header and its indented body."""
    out = [node.text] if node.text else []
    base = 0 if node.text else -1
    for depth, sub in node.walk():
        out.append(" " * (depth + base) + sub.text)
    return "\n".join(out)


def hostname_of(root: ConfigNode, platform: Personality, default: str) -> str:
    """The name the prompt shows: the ``sysname``/``hostname`` line, else ``default``.

    >>> from govnet.lab.devsim.platforms import get_platform
    >>> hostname_of(ConfigNode("", [ConfigNode("hostname R7")]), get_platform("cisco_ios"), "x")
    'R7'
    """
    keyword = platform.syntax.hostname_keyword + " "
    for child in root.children:
        if child.text.startswith(keyword) and not child.children:
            name = child.text[len(keyword) :].strip()
            if re.fullmatch(r"\S+", name):
                return name
    return default
