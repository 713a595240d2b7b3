"""The import contract: govnet's layers, named once here, and the rules between them.

Read from the source with `ast` (every import counts: at module level, inside a function, under
``TYPE_CHECKING``; a cycle hidden behind a lazy import is still a cycle). The rules:

1. every folder (subpackage) of ``govnet/`` is a named layer below, and imports only its own layer
   or layers listed after it: the CLI on top, then the daemon, … down to the foundation modules;
2. no cycle between subpackages, nor between the modules of one;
3. production code never imports the lab (``govnet/lab/``), except the CLI's ``govnet lab``
   commands (``govnet/cli/lab.py``);
4. nothing imports the CLI (``python -m govnet``, ``govnet/__main__.py``, is its entry point).

The order matches the Layout table of README.md; a new folder must be placed here to pass.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "govnet"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),  # parse, call, print; imports anything, imported by nothing
    ("lab",),  # the lab twin: only the CLI's `govnet lab` may import it
    ("monitor",),  # the daemon: scheduler, probes' state, reloads, the drift job
    ("metrics",),  # the view the daemon fills, the daemon's Collector, HTTP, status page
    ("report",),  # availability and construction reports from Prometheus
    ("notify",),  # the alert bridge: DingTalk robots and SMS gateways
    ("compliance",),  # running config against intent
    ("rollout",),  # plan, apply, resume, rollback
    ("export",),  # Alertmanager config, silences
    ("render",),  # templates -> intended config
    ("devices",),  # netmiko sessions, platform records
    ("probes",),  # one package per kind (settings, probe, record, part, collector), results not exceptions
    ("state",),  # SQLite store, backups, audit chain
    ("inventory",),  # YAML with line marks, models, selection
    ("platforms",),  # one record per vendor: CLI, configuration language, names
    ("osutil",),  # operating-system helpers: namespaces, forked children, private files
    ("",),  # the foundation: govnet/*.py (errors, settings, secrets, sshalgs)
)
"""Top to bottom; a layer imports only itself and the layers after it."""

LAB_CALLERS = {"govnet.cli.lab"}
CLI_ENTRY = {"govnet.__main__"}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The govnet module an import names (``govnet.x.y.Name`` -> ``govnet.x.y``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported govnet module, line) for every import statement of ``module``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            target = _resolve(name) if name.split(".")[0] == "govnet" else None
            if target is not None and target != module:
                yield target, node.lineno


GRAPH: dict[str, dict[str, int]] = {
    module: dict(_imports(module, path)) for module, path in sorted(MODULES.items())
}


def layer(module: str) -> str:
    """``govnet.monitor.daemon`` -> ``monitor``; ``govnet.errors`` -> ``""`` (the foundation)."""
    if module in CLI_ENTRY:
        return "cli"
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and MODULES[module].name == "__init__.py"):
        return parts[1]
    return ""


RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _where(module: str, target: str) -> str:
    return f"{MODULES[module].relative_to(ROOT.parent)}:{GRAPH[module][target]}: imports {target}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_folder_is_a_named_layer() -> None:
    folders = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    named = {name for names in LAYERS for name in names if name}
    assert folders == named, (
        f"name the layer of {sorted(folders - named)} in LAYERS; gone: {sorted(named - folders)}"
    )


def test_imports_point_down() -> None:
    upward = [
        f"{_where(module, target)} ({layer(module) or 'govnet/*.py'} may not import {layer(target) or 'govnet/*.py'})"
        for module, targets in GRAPH.items()
        for target in targets
        if RANK[layer(target)] < RANK[layer(module)]
    ]
    assert not upward, "\n".join(upward)


def test_no_cycle_between_subpackages() -> None:
    graph: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        for target in targets:
            if layer(target) != layer(module):
                graph.setdefault(layer(module), set()).add(layer(target))
    assert not _cycles(graph), _cycles(graph)


def test_no_cycle_between_modules() -> None:
    cycles = _cycles({module: set(targets) for module, targets in GRAPH.items()})
    assert not cycles, cycles


def test_production_code_does_not_import_the_lab() -> None:
    found = [
        _where(module, target)
        for module, targets in GRAPH.items()
        for target in targets
        if layer(target) == "lab" and layer(module) != "lab" and module not in LAB_CALLERS
    ]
    assert not found, "\n".join(found)


def test_nothing_imports_the_cli() -> None:
    found = [
        _where(module, target)
        for module, targets in GRAPH.items()
        for target in targets
        if layer(target) == "cli" and layer(module) != "cli"
    ]
    assert not found, "\n".join(found)


def test_the_contract_sees_imports() -> None:
    """The graph is not empty by accident: a known edge of each kind is found."""
    assert "govnet.errors" in GRAPH["govnet.inventory.loader"]
    assert "govnet.cli.main" in GRAPH["govnet.__main__"]
    assert layer("govnet.__main__") == "cli"
    assert layer("govnet.errors") == ""
    assert layer("govnet.monitor") == "monitor"
    assert layer("govnet.monitor.daemon") == "monitor"


def test_readme_layout_is_the_map() -> None:
    """README.md's table of ``govnet/`` lists the layers in this order: the map and the check agree."""
    text = (ROOT.parent / "README.md").read_text()
    section = text[text.index("`govnet/`, top to bottom") :]
    section = section[: section.index("\n## ")]
    rows = [line.split("`")[1].rstrip("/") for line in section.splitlines() if line.startswith("| `")]
    assert rows == [name or "*.py" for names in LAYERS for name in names]


FILE_PATHS = {"govnet.resources", "govnet.lab.kfaults"}
"""Modules that may build paths from ``__file__``: the resolver of govnet's data folders, and the
lab's child processes that need the package's import path (not data)."""


def test_only_the_resolver_finds_data_beside_the_code() -> None:
    """configs/, exporters/ and probes/ are found by ``govnet.resources.data_dir`` alone: a path
    built from ``__file__`` elsewhere works in a checkout and breaks in an installed wheel."""
    found = [
        f"{path.relative_to(ROOT.parent)}:{node.lineno}: uses __file__ (use govnet.resources.data_dir)"
        for module, path in sorted(MODULES.items())
        if module not in FILE_PATHS
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Name | ast.Attribute)
        and (node.id if isinstance(node, ast.Name) else node.attr) == "__file__"
    ]
    assert not found, "\n".join(found)
