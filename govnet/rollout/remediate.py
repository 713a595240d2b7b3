"""From a device's running configuration to its intended one: the commands, and only those.

``remediate(platform, running, intended)`` reads both texts into trees (``govnet.render.tree``),
lets hier_config compute the difference, and turns it into commands ready for netmiko's
``send_config_set``: section headers to enter views, the platform's exit word (``quit`` / ``exit``
/ ``exit-address-family``) to leave each one, because netmiko sends lines and never leaves a
view by itself.

**Managed scope.** govnet changes only what it manages, so an operator's own lines survive:

* a top-level section the intended config names (same header) is managed whole: its lines that
  are not intended are removed, unless it is *shared* (VRP ``aaa``/``user-interface``, Comware and
  IOS ``line``): there only lines claimed by an intended line are managed;
* a line is *claimed* by an intended line of the same section with the same key (``description``,
  ``ip address``, ``authentication-mode``…, see ``Dialect.keys``): a changed value;
* top-level lines of commands govnet owns are managed wherever they appear (SNMP communities,
  groups and users, syslog hosts, NTP servers, ACLs 2990–2999/3990–3999 or ``GOVNET-*``, static
  routes described/named ``govnet-…``), so a stale community or log host is removed — when
  the intended text has a part of their kind (an intranet rollout leaves the party ACL alone);
* everything else (other interfaces, other users, routing) is left alone, and not reported.

**Secret placeholders are wildcards**: an intended ``<<secret:REF>>`` matches whatever the device
shows there (``govnet.render.secrets.wildcard``); a rotated secret is therefore not drift.

**Where hier_config needs help** (``govnet.platforms`` holds the rules): its Comware
driver leaves sections with ``exit`` (Comware wants ``quit``; views are left by our
``Dialect.views``, also for empty ones like IOS ``vlan 10``) and its VRP-like drivers negate by
prefixing the whole line (``undo rule 5 deny ip …``, ``undo description a``, ``undo local-user
u password …``, refused or wrong on the CLIs): ``Dialect.negations`` gives the short forms. A
changed ``ip address``/``description`` is sent once, without the ``undo`` hier_config puts
first: ``Dialect.replaces`` lists what the device overwrites (it replaces hier_config's IOS
idempotency list). Its text loader is not used (a one-line ``banner motd ^…^`` makes it
swallow the lines after it, or fail), nor its IOS ACL renumbering; IOS ACLs (ordered) are
rewritten whole instead of patched. Changing a VRF binding wipes the interface
address on the device, so the address is sent again (``Dialect.resend``); IOS never shows
``snmp-server user``, so that line is sent only when its group is missing (``write_only``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hier_config import Platform, get_hconfig, get_hconfig_driver

from govnet.devices.normalise import satisfied_defaults, stable_text
from govnet.platforms import Dialect, dialect
from govnet.render.secrets import wildcard
from govnet.render.tree import Line, parse
from govnet.state.backups import text_hash


@dataclass(frozen=True)
class Remediation:
    """What it takes to bring one device to its intended configuration.

    ``missing`` and ``extra`` are lines with their section path (``interface X > ip address …``);
    ``kinds`` counts (missing, extra) per part kind (``baseline``, ``intranet``, …).
    """

    platform: str
    commands: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    kinds: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.commands or self.missing or self.extra)


def remediate(platform: str, running: str, intended: str, *, full: bool = False) -> Remediation:
    """The commands that turn ``running`` into ``intended`` within the managed scope.

    ``full`` manages everything: used to restore a complete backup, where every running line
    the backup lacks must go. Volatile lines are never compared, and an intended line the
    device hides as its default counts as present while it is in force
    (``govnet.devices.normalise``).
    """
    rules = dialect(platform)
    have = parse(rules, stable_text(platform, running))
    want = parse(rules, stable_text(platform, intended) if full else intended)
    _resolve_placeholders(want, have)
    if not full:  # a backup is what a device showed: it holds no hidden default to accept
        hidden = satisfied_defaults(platform, running, [c.text for c in want.children])
        want.children[:] = [c for c in want.children if c.text not in hidden or c.children]
    _drop_write_only(rules, want, have)
    managed = {line.kind for _, line in want.walk()}
    scoped = have.copy() if full else _scope(rules, have, want, managed, top=True)
    missing = _absent(want, scoped)
    extra = _absent(scoped, want)
    kinds: dict[str, tuple[int, int]] = {}
    for index, found in enumerate((missing, extra)):
        for _, kind in found:
            counts = list(kinds.get(kind, (0, 0)))
            counts[index] += 1
            kinds[kind] = (counts[0], counts[1])
    return Remediation(
        platform=platform,
        commands=_commands(rules, scoped, want, missing, extra)
        if missing or extra
        else _reordered(rules, scoped, want),
        missing=[" > ".join(path) for path, _ in missing],
        extra=[" > ".join(path) for path, _ in extra],
        kinds=kinds,
    )


def running_hash(platform: str, running: str) -> str:
    """What a plan records of the running config it was made from, and ``apply`` checks: the
    hash of its stable text, so a line that changes by itself never makes a plan stale.

    >>> a = "!\\nhostname R1\\nntp clock-period 17179860\\nend\\n"
    >>> running_hash("cisco_ios", a) == running_hash("cisco_ios", a.replace("60", "75"))
    True
    """
    return text_hash(stable_text(platform, running))


def stays_in_view(platform: str, running: str, intended: str) -> Callable[[str], bool]:
    """Whether a command line for this device leaves it in the view it was typed in, for
    ``Session.push`` to send runs of such lines in one write.

    A line may change the view when it is a section header in either configuration, opens a
    view (``Dialect.views``) or is an exit word; every other line (a leaf, a negation: ``undo``
    / ``no`` never enters a view) stays. Headers never carry secrets, so the check reads the
    substituted lines the session sends.

    >>> stays = stays_in_view("huawei_vrp", "", "acl number 2990\\n rule 5 permit\\n")
    >>> [stays(x) for x in ("acl number 2990", "rule 5 permit", "quit", "undo acl number 2990")]
    [False, True, False, True]
    """
    rules = dialect(platform)
    changers = {rules.exit, *(word for _, word in rules.views)}
    for text in (running, intended):
        changers.update(line.text for _, line in parse(rules, text).walk() if line.children)

    def stays(line: str) -> bool:
        return line not in changers and not _matches((p for p, _ in rules.views), line)

    return stays


def key(rules: Dialect, text: str) -> str:
    """What a line sets, without its value: lines with one key claim each other.

    >>> from govnet.platforms import dialect
    >>> key(dialect("huawei_vrp"), "undo ip address 10.0.0.1 255.255.255.0")
    'ip address'
    >>> key(dialect("cisco_ios"), "ip access-group GOVNET-PARTY in")
    'ip access-group in'
    """
    found = _KEYS.get((rules.name, text))
    if found is None:
        found = stripped = text.removeprefix(rules.negation + " ")
        for pattern in rules.keys:
            match = pattern.match(stripped)
            if match is not None:
                found = " ".join(g for g in match.groups() if g)
                break
        if len(_KEYS) < 100_000:  # lines repeat across devices (the same baseline): bounded memo
            _KEYS[(rules.name, text)] = found
    return found


_KEYS: dict[tuple[str, str], str] = {}


def _matches(patterns: Iterable[re.Pattern[str]], text: str) -> bool:
    return any(p.match(text) for p in patterns)


def _resolve_placeholders(want: Line, have: Line) -> None:
    """Give an intended line with placeholders the text the device shows for it, if it has it."""
    for line in want.children:
        pattern = wildcard(line.text)
        if pattern is not None:
            shown = next((c for c in have.children if pattern.fullmatch(c.text)), None)
            if shown is not None:
                line.text = shown.text
        counterpart = have.find(line.text)
        if counterpart is not None and line.children:
            _resolve_placeholders(line, counterpart)


def _drop_write_only(rules: Dialect, want: Line, have: Line) -> None:
    """Lines the device never shows count as present once the line they hang on is there (and
    are not compared when a running text shows them anyway, e.g. an intended text)."""
    have.children[:] = [c for c in have.children if not _matches((p for p, _ in rules.write_only), c.text)]
    kept = []
    for line in want.children:
        for pattern, anchor in rules.write_only:
            match = pattern.match(line.text)
            if match is not None:
                anchored = re.compile(anchor.format(*(re.escape(g) for g in match.groups())))
                if any(anchored.match(c.text) for c in have.children):
                    break
        else:
            kept.append(line)
    want.children[:] = kept


def _scope(rules: Dialect, have: Line, want: Line, managed: set[str], top: bool) -> Line:
    """The part of ``have`` govnet manages (module docstring), labelled with intended kinds.

    Owned lines count only when their kind is one the intended text has parts of: a rollout of
    the intranet manages the baseline and intranet parts, and must leave the party isolation ACL
    (owned by the party part) alone.
    """
    scoped = Line(have.text, kind=want.kind)
    claims: dict[str, Line] = {}
    for line in want.children:
        claims.setdefault(key(rules, line.text), line)
    wanted = _index(want)
    for line in have.children:
        same = wanted.get(line.text)
        if same is not None and (same.children or line.children) and _matches(rules.shared, line.text):
            scoped.children.append(_scope(rules, line, same, managed, top=False))
            continue
        claim = same or claims.get(key(rules, line.text))
        if claim is not None:
            scoped.children.append(line.copy(claim.kind))
            continue
        if top:
            owner = next((kind for pattern, kind in rules.owned if pattern.match(line.text)), None)
            if owner is not None and owner in managed:
                scoped.children.append(line.copy(owner))
    return scoped


def _absent(source: Line, other: Line) -> list[tuple[tuple[str, ...], str]]:
    """Lines of ``source`` missing from ``other`` (a missing section counts with its body)."""
    found: list[tuple[tuple[str, ...], str]] = []

    def visit(here: Line, there: Line | None, path: tuple[str, ...]) -> None:
        index = _index(there)
        for line in here.children:
            match = index.get(line.text)
            if match is None:
                found.append(((*path, line.text), line.kind))
            visit(line, match, (*path, line.text))

    visit(source, other, ())
    return found


def _index(line: Line | None) -> dict[str, Line]:
    """``line``'s children by text, the first of equal ones winning (as ``Line.find``)."""
    index: dict[str, Line] = {}
    for child in line.children if line is not None else ():
        index.setdefault(child.text, child)
    return index


def _driver(rules: Dialect) -> Any:
    """hier_config's driver for the platform, with our negations and overwrite rules."""
    base = type(get_hconfig_driver(Platform[rules.hier]))

    class Driver(base):  # type: ignore[valid-type,misc]
        def swap_negation(self, child: Any) -> Any:
            prefix = rules.negation + " "
            if child.text.startswith(prefix):
                child.text = child.text.removeprefix(prefix)
                return child
            text = child.text
            for pattern, replacement in rules.negations:
                if pattern.match(text):
                    text = pattern.sub(replacement, text)
                    break
            child.text = prefix + text
            return child

        def idempotent_for(self, config: Any, other_children: Iterable[Any]) -> Any:
            own = key(rules, config.text)
            if not _matches(rules.replaces, config.text.removeprefix(rules.negation + " ")):
                return None
            return next((o for o in other_children if key(rules, o.text) == own), None)

    return Driver()


def _hconfig(driver: Any, root: Line) -> Any:
    config = get_hconfig(driver)

    def add(parent: Any, line: Line) -> None:
        child = parent.add_child(line.text, return_if_present=True)
        for sub in line.children:
            add(child, sub)

    for line in root.children:
        add(config, line)
    return config


def _from_hconfig(node: Any) -> Line:
    return Line(node.text if hasattr(node, "text") else "", [_from_hconfig(c) for c in node.children])


Found = list[tuple[tuple[str, ...], str]]


def _touched(rules: Dialect, scoped: Line, want: Line, missing: Found, extra: Found) -> tuple[Line, Line]:
    """``scoped`` and ``want`` cut down to the top-level lines and sections hier_config must see.

    A top-level line or section where nothing is missing or extra adds nothing to the commands,
    except as a same-key partner of a changed line (``Driver.idempotent_for``), so those stay
    too. Building hier_config trees of whole configurations for the few sections a change
    touches was most of a remediation's CPU.
    """
    tops = {path[0] for path, _ in (*missing, *extra)}
    keys = {key(rules, text) for text in tops}

    def cut(root: Line) -> Line:
        kept = [c for c in root.children if c.text in tops or key(rules, c.text) in keys]
        return Line(root.text, kept, root.kind)

    return cut(scoped), cut(want)


def _commands(rules: Dialect, scoped: Line, want: Line, missing: Found, extra: Found) -> list[str]:
    driver = _driver(rules)
    have_part, want_part = _touched(rules, scoped, want, missing, extra)
    delta = _hconfig(driver, have_part).config_to_get_to(_hconfig(driver, want_part))
    plan = _from_hconfig(delta)
    _rewrite_ordered(rules, plan, scoped, want)
    _resend(rules, plan, scoped, want)
    out: list[str] = []
    _emit(rules, plan, out)
    return out


def _reordered(rules: Dialect, scoped: Line, want: Line) -> list[str]:
    """The commands when no line is missing or extra: only an ordered section in another order
    can still differ. (The common case of a verify and of a plan after a rollout: it skips
    building both hier_config trees, most of a remediation's CPU.)"""
    plan = Line("")
    _rewrite_ordered(rules, plan, scoped, want)
    out: list[str] = []
    _emit(rules, plan, out)
    return out


def _rewrite_ordered(rules: Dialect, plan: Line, scoped: Line, want: Line) -> None:
    """Ordered sections (IOS ACLs) that differ at all are removed and written again whole."""
    for section in want.children:
        if not _matches(rules.rewrite, section.text):
            continue
        current = scoped.find(section.text)
        if current is None or [c.text for c in current.children] == [c.text for c in section.children]:
            continue
        plan.children[:] = [c for c in plan.children if c.text != section.text]
        plan.children.append(Line(f"{rules.negation} {section.text}"))
        plan.children.append(section.copy())


def _resend(rules: Dialect, plan: Line, scoped: Line, want: Line) -> None:
    """After a changed or removed VRF binding, send the lines the device dropped with the old one."""
    for section in plan.children:
        intended, current = want.find(section.text), scoped.find(section.text)
        if intended is None or current is None:
            continue
        for trigger, lines in rules.resend:
            if any(trigger.match(c.text.removeprefix(rules.negation + " ")) for c in section.children):
                texts = {c.text for c in section.children}
                section.children += [
                    c.copy() for c in intended.children if lines.match(c.text) and c.text not in texts
                ]


def _emit(rules: Dialect, node: Line, out: list[str]) -> None:
    for line in node.children:
        out.append(line.text)
        if line.text.startswith(rules.negation + " "):
            continue
        view = next((word for pattern, word in rules.views if pattern.match(line.text)), None)
        if line.children or view is not None:
            _emit(rules, line, out)
            out.append(view or rules.exit)
