"""What a configuration line does to the tree: enter a view, add, replace or remove a line.

A session in configuration mode has a cursor (the stack of views it is in, e.g. system view →
``ip vpn-instance party`` → ``ipv4-family``). ``ConfigEditor`` applies one line at that cursor
the way the vendor CLIs do: a section header enters (or re-enters) its section; a header or a
global-only line typed inside a sub-view climbs out first, as IOS and VRP do; ``undo``/``no``
removes the matching line or section; single-valued lines (``description``, ``ip address``)
replace their previous value. It is pure logic, so it is tested without SSH.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from govnet.lab.devsim.cipher import conceal
from govnet.lab.devsim.config import ConfigNode
from govnet.lab.devsim.personality import Personality, SectionRule

_INTERFACE = re.compile(r"^interface (?P<kind>[A-Za-z][A-Za-z-]*?)\s?(?P<number>\d[\d/.:]*)$")


class LineVerdict(Enum):
    """How a configuration line was received."""

    OK = "ok"
    UNKNOWN = "unknown"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class EditOutcome:
    """Result of one line: accepted or not, whether the tree changed, where the error is."""

    verdict: LineVerdict
    changed: bool = False
    error_column: int = 0


@dataclass
class Frame:
    """One open view: the section node, its rule's kind and its prompt label."""

    node: ConfigNode
    kind: str
    label: str


class ConfigEditor:
    """Cursor plus edit operations over one device's running configuration tree."""

    def __init__(self, root: ConfigNode, platform: Personality) -> None:
        self.root = root
        self.platform = platform
        self.frames: list[Frame] = []

    @property
    def label(self) -> str | None:
        """Label of the innermost view, ``None`` in system view / global configuration."""
        return self.frames[-1].label if self.frames else None

    @property
    def section(self) -> ConfigNode:
        return self.frames[-1].node if self.frames else self.root

    def exit_one(self) -> bool:
        """Leave the innermost view; ``False`` when already at system view."""
        if not self.frames:
            return False
        self.frames.pop()
        return True

    def reset(self) -> None:
        self.frames.clear()

    def apply(self, line: str) -> EditOutcome:
        """Apply one configuration line (leading/trailing blanks ignored) at the cursor."""
        text = " ".join(line.split())
        if not text:
            return EditOutcome(LineVerdict.OK)
        syntax = self.platform.syntax
        first, _, rest = text.partition(" ")
        if first == syntax.negation:
            return self._negate(self.canonical(rest), len(first) + 1)
        text = self.canonical(text)
        verdict = self._check_words(text, 0)
        if verdict is not None:
            return verdict
        entered = self._match_section(text)
        if entered is not None:
            depth, rule, match = entered
            del self.frames[depth:]
            parent = self.section
            created = parent.find(text) is None
            node = parent.child(text)
            groups = [g or "" for g in match.groups()]
            parent_label = self.label or ""
            label = rule.label.format(match.group(0), *groups, parent=parent_label)
            self.frames.append(Frame(node, rule.kind, label))
            return EditOutcome(LineVerdict.OK, changed=created)
        if text.startswith(syntax.global_prefixes):
            self.frames.clear()
        shown = conceal(self.platform.name, text)  # devices never show a secret (cipher.py)
        if shown is None:
            return EditOutcome(LineVerdict.OK)
        return EditOutcome(LineVerdict.OK, changed=self._add(self.section, shown))

    def canonical(self, text: str) -> str:
        """Expand an abbreviated interface name as the CLI does (``interface Gi0/1``).

        >>> from govnet.lab.devsim.platforms import get_platform
        >>> ConfigEditor(ConfigNode(""), get_platform("huawei_vrp")).canonical("interface GE0/0/1")
        'interface GigabitEthernet0/0/1'
        """
        match = _INTERFACE.match(text)
        if match is None:
            return text
        kind = match.group("kind").lower()
        syntax = self.platform.syntax
        names = [full for alias, full in syntax.interface_aliases if alias.lower() == kind]
        names += [t for t in syntax.interface_types if t.lower() == kind]
        names = names or [t for t in syntax.interface_types if t.lower().startswith(kind)]
        if len(set(names)) != 1:
            return text
        return f"interface {names[0]}{match.group('number')}"

    def _check_words(self, text: str, column: int) -> EditOutcome | None:
        syntax = self.platform.syntax
        first = text.split(" ", 1)[0]
        known = first in syntax.keywords or (bool(self.frames) and first.isdigit())
        if not known:
            return EditOutcome(LineVerdict.UNKNOWN, error_column=column)
        if " " not in text and first not in syntax.bare_keywords:
            return EditOutcome(LineVerdict.INCOMPLETE, error_column=column + len(text))
        return None

    def _match_section(self, text: str) -> tuple[int, SectionRule, re.Match[str]] | None:
        """The view depth a header applies at (innermost first), its rule and match."""
        kinds: list[str | None] = [None, *(f.kind for f in self.frames)]
        for depth in range(len(kinds) - 1, -1, -1):
            for rule in self.platform.syntax.sections:
                if rule.parent != kinds[depth]:
                    continue
                match = rule.pattern.match(text)
                if match is not None:
                    return depth, rule, match
        return None

    def _negate(self, target: str, column: int) -> EditOutcome:
        if not target:
            return EditOutcome(LineVerdict.INCOMPLETE, error_column=column)
        verdict = self._check_words(target, column)
        if verdict is not None and verdict.verdict is LineVerdict.UNKNOWN:
            return verdict
        entered = self._match_section(target)
        if entered is not None:
            del self.frames[entered[0] :]
        elif target.startswith(self.platform.syntax.global_prefixes):
            self.frames.clear()
        section = self.section
        removed = _remove(section, target)
        if removed:
            return EditOutcome(LineVerdict.OK, changed=True)
        negated = f"{self.platform.syntax.negation} {target}"
        if self.platform.hides_defaults and negated in self.platform.hidden_defaults:
            return EditOutcome(LineVerdict.OK)  # back to the default: nothing is shown for it
        if any(p.match(negated) for p in self.platform.syntax.kept_negations):
            return EditOutcome(LineVerdict.OK, changed=self._add(section, negated))
        return EditOutcome(LineVerdict.OK)

    def _add(self, section: ConfigNode, text: str) -> bool:
        """Add a line to a section: no duplicate, undo its stored negation, replace a value.

        Typing the positive form of a displayed negation (``telnet server enable`` over ``undo
        telnet server enable``) puts the feature back to its default, which is not displayed:
        the negation goes and nothing takes its place, unless this section displayed the
        positive line before (then the feature is one shown when on, like ``stelnet server
        enable``).
        """
        if section.find(text) is not None:
            return False
        negation = f"{self.platform.syntax.negation} {text}"
        negated = section.find(negation)
        if negated is not None:
            section.remove(negated)
            kept = any(p.match(negation) for p in self.platform.syntax.kept_negations)
            if kept and text not in section.seen:
                return True
        for rule in self.platform.syntax.replace_rules:
            match = rule.match(text)
            if match is None:
                continue
            for child in section.children:
                other = rule.match(child.text)
                if other is not None and other.group(1) == match.group(1):
                    section.rename(child, text)
                    return True
            break
        section.place(ConfigNode(text))
        return True

    def add_block(self, text: str) -> bool:
        """Store a completed multi-line block (a banner); blocks live at the top level."""
        self.frames.clear()
        return self._add(self.root, text)


def _remove(section: ConfigNode, target: str) -> bool:
    """Remove the line ``target`` (and its section), else every line that begins with it."""
    exact = section.find(target)
    if exact is not None:
        section.remove(exact)
        return True
    prefix = target + " "
    gone = [c for c in section.children if c.text.startswith(prefix)]
    for child in gone:
        section.remove(child)
    return bool(gone)
