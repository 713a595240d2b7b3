"""One name, one meaning (#16): no two classes of ``govnet/`` share a name, and every class the
glossary (``govnet/GLOSSARY.md``) names is defined where it says."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "govnet"
GLOSSARY = PACKAGE / "GLOSSARY.md"


def _classes() -> dict[str, list[str]]:
    """Class name -> the modules defining one (nested classes included)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(str(path.relative_to(ROOT)))
    return found


def _module_path(dotted: str) -> Path | None:
    base = PACKAGE.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def test_no_two_classes_share_a_name() -> None:
    twice = {name: where for name, where in _classes().items() if len(where) > 1}
    assert not twice, f"one name, one meaning (govnet/GLOSSARY.md): {twice}"


def test_every_class_the_glossary_names_is_where_it_says() -> None:
    named = re.findall(r"`((?:[a-z_]+\.)+[A-Za-z_]+)`", GLOSSARY.read_text())
    assert len(named) > 20
    missing = []
    for reference in named:
        module, _, name = reference.rpartition(".")
        path = _module_path(reference) or _module_path(module)
        if path is None or (
            _module_path(reference) is None
            and not re.search(rf"^(?:class {name}\b|{name}\s*[:=])", path.read_text(), re.M)
        ):
            missing.append(reference)
    assert not missing, f"GLOSSARY.md names what does not exist: {missing}"
