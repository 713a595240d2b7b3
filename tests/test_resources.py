"""Where govnet finds its data folders (govnet.resources), and what an install leaves out.

The wheel itself, installed into a fresh virtualenv, is tested in tests/install; here the
resolver's choices, in process: a checkout's own folders, else the shipped copy; the templates'
default; ``python -m govnet.resources``; the lab extra's one-line error.
"""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path
from typing import Any

import pytest

from govnet import resources
from govnet.cli import main as cli_main
from govnet.settings import Settings
from tests.helpers import ROOT


def test_a_checkout_reads_its_own_folders() -> None:
    for name in resources.NAMES:
        assert resources.data_dir(name) == ROOT / name


def test_an_installed_package_reads_its_shipped_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "govnet"
    for name in resources.NAMES:
        (package / "_data" / name).mkdir(parents=True)
    monkeypatch.setattr(resources, "PACKAGE", package)
    monkeypatch.setattr(resources, "SHIPPED", package / "_data")
    for name in resources.NAMES:
        assert resources.data_dir(name) == package / "_data" / name
    (tmp_path / "site-packages" / "configs").mkdir()  # another distribution's: not ours
    assert resources.data_dir("configs") == package / "_data" / "configs"
    (tmp_path / "site-packages" / "pyproject.toml").write_text("")  # a checkout's folders win
    assert resources.data_dir("configs") == tmp_path / "site-packages" / "configs"


def test_an_unknown_folder_is_refused() -> None:
    with pytest.raises(ValueError, match="not a govnet data folder"):
        resources.data_dir("inventory")  # type: ignore[arg-type]


def test_templates_default_to_the_working_directory_then_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).templates == str(resources.data_dir("configs"))
    assert Settings.from_env({"GOVNET_TEMPLATES": "site-templates"}).templates == "site-templates"
    (tmp_path / "configs").mkdir()
    assert Settings.from_env({}).templates == "configs"


def test_python_m_govnet_resources_prints_the_folders(capsys: pytest.CaptureFixture[str]) -> None:
    assert resources.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{name}\t{ROOT / name}" for name in resources.NAMES]
    assert resources.main(["exporters"]) == 0
    assert capsys.readouterr().out == f"{ROOT / 'exporters'}\n"
    assert resources.main(["nope"]) == 2
    assert (
        capsys.readouterr().err
        == "govnet.resources: unknown folder 'nope' (one of configs, exporters, probes)\n"
    )


def test_the_build_hook_ships_the_folders_the_resolver_reads() -> None:
    """setup.py's DATA and TARGET are govnet.resources' NAMES and SHIPPED (read, not run)."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    values = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert ast.literal_eval(values["DATA"]) == resources.NAMES
    target = values["TARGET"]
    assert isinstance(target, ast.Call)
    assert Path(*(ast.literal_eval(a) for a in target.args)) == resources.SHIPPED.relative_to(ROOT)
    manifest = (ROOT / "MANIFEST.in").read_text().splitlines()
    assert all(f"graft {name}" in manifest for name in resources.NAMES)


def test_the_lab_extra_is_what_the_cli_checks() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {
        r.split(">")[0].split("<")[0].split("=")[0].strip().lower()
        for r in project["optional-dependencies"]["lab"]
    }
    assert names == set(cli_main.LAB_EXTRA)
    assert not names & {r.split(">")[0].split("<")[0].strip().lower() for r in project["dependencies"]}
    assert "govnet[lab]" in project["optional-dependencies"]["test"]


def test_govnet_lab_without_the_extra_is_one_line(govnet: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_netfilterqueue(name: str, *args: object) -> object:
        return None if name == "netfilterqueue" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", without_netfilterqueue)
    result = govnet("lab", "status")
    assert result.code == 1
    assert result.err.splitlines() == ["govnet: govnet lab needs the lab extra: pip install 'govnet[lab]'"]
    assert result.out == ""


def test_only_the_lab_imports_the_lab_extra() -> None:
    """A production install has no asyncssh or netfilterqueue: nothing outside govnet/lab/ may import them."""
    package = ROOT / "govnet"
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.is_relative_to(package / "lab"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}: {name}"
                for name in names
                if name.split(".")[0] in cli_main.LAB_EXTRA
            ]
    assert not found, "\n".join(found)
