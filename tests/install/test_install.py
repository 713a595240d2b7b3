"""govnet installed from its wheel, not from a checkout: what deploy/Dockerfile does, without Docker.

The wheel is built from a copy of the packaging files (so nothing is written into the checkout),
then installed into a fresh virtualenv from wheels only (``--only-binary=:all:``), offline from
the wheelhouse scripts/setup fetched (``--no-index``: the lab tier has no network), with no
compiler on PATH, without the lab extra. Run away from any checkout, it must find its templates,
rules and dashboards inside the package, validate an inventory, check a daemon config, and say
what to install for ``govnet lab``. Where a Docker daemon answers, the image itself is built too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from govnet import __version__
from govnet.resources import NAMES
from tests import nobody
from tests.helpers import ROOT, need

pytestmark = [pytest.mark.lab, pytest.mark.slow]

WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
PACKAGING = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "govnet", *NAMES)
COMPILERS = ("cc", "gcc", "clang", "c++", "g++")
SECRETS = ("SSH_PASSWORD", "ENABLE_SECRET", "SNMP_AUTH_KEY", "SNMP_PRIV_KEY", "TRAP_COMMUNITY")
LAB_EXTRA_MESSAGE = "govnet: govnet lab needs the lab extra: pip install 'govnet[lab]'"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    away: Path
    env: dict[str, str]

    def run(
        self, *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=cwd or self.away,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _checked(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    need((WHEELHOUSE / ".complete").is_file(), f"no {WHEELHOUSE}: run scripts/setup (it fetches the wheels)")
    tmp = tmp_path_factory.mktemp("install")
    source, nocc = tmp / "source", tmp / "bin"
    nocc.mkdir()
    source.mkdir()
    for name in PACKAGING:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    venv = tmp / "venv"
    env = {"HOME": str(tmp), "PATH": f"{venv / 'bin'}:{nocc}", "LANG": "C.UTF-8", "PIP_NO_CACHE_DIR": "1"}
    for compiler in COMPILERS:
        assert shutil.which(compiler, path=env["PATH"]) is None, f"{compiler} on the install's PATH"
    offline = ("--no-index", "--find-links", str(WHEELHOUSE), "-c", str(ROOT / "scripts" / "constraints.txt"))
    wheels = tmp / "wheels"
    _checked(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                *offline,
                "-w",
                str(wheels),
                str(source),
            ],
            env={**os.environ, "PIP_NO_CACHE_DIR": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    )
    (wheel,) = wheels.glob("govnet-*.whl")
    _checked(
        subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False)
    )
    install = Installed(wheel, venv, tmp / "away", env)
    _checked(
        install.run(
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--only-binary=:all:",
            *offline,
            str(wheel),
            cwd=tmp,
        )
    )
    install.away.mkdir()
    shutil.copytree(ROOT / "inventory", install.away / "inventory")
    yield install


def test_the_wheel_carries_every_data_file(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder in NAMES:
        files = [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        assert files, folder
        for path in files:
            assert f"govnet/_data/{path.relative_to(ROOT)}" in names, path
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [
        line.split(":", 1)[1].strip()
        for line in zipfile.ZipFile(installed.wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    for lab_only in ("asyncssh", "netfilterqueue"):
        (requirement,) = [r for r in requires if r.lower().startswith(lab_only)]
        assert 'extra == "lab"' in requirement or "extra == 'lab'" in requirement, requirement


def test_the_installed_govnet_runs_away_from_any_checkout(installed: Installed) -> None:
    python = str(installed.venv / "bin" / "python")
    assert _checked(installed.run("govnet", "--version")).stdout.strip() == f"govnet, version {__version__}"
    shipped = Path(_checked(installed.run(python, "-m", "govnet.resources", "configs")).stdout.strip())
    assert shipped.is_relative_to(installed.venv) and (shipped / "huawei_vrp").is_dir(), shipped
    for name in NAMES:  # the checkout is nowhere in sight: every folder is the package's own
        found = _checked(installed.run(python, "-m", "govnet.resources", name)).stdout.strip()
        assert Path(found) == installed.venv / shipped.relative_to(installed.venv).parent / name
    templates = installed.run(
        python, "-c", "from govnet.settings import settings; print(settings().templates)"
    )
    assert Path(_checked(templates).stdout.strip()) == shipped
    for inventory in (installed.away / "inventory", ROOT / "inventory"):
        done = _checked(installed.run("govnet", "inventory", "validate", "--inventory", str(inventory)))
        assert done.stdout.startswith(f"{inventory}: valid: "), done.stdout
    for lab_only in ("asyncssh", "netfilterqueue"):
        assert installed.run(python, "-c", f"import {lab_only}").returncode == 1, lab_only


def test_the_installed_daemon_checks_its_config(installed: Installed) -> None:
    """deploy/daemon.example.yml as a site adapts it: the drift check's templates are the shipped ones."""
    python = str(installed.venv / "bin" / "python")
    shipped = _checked(installed.run(python, "-m", "govnet.resources", "configs")).stdout.strip()
    config = yaml.safe_load((ROOT / "deploy" / "daemon.example.yml").read_text())
    config["compliance"]["templates"] = shipped
    deploy = installed.away / "deploy"
    deploy.mkdir(exist_ok=True)
    (deploy / "daemon.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    secrets = {f"GOVNET_{name}": "not-a-real-secret" for name in SECRETS}
    done = _checked(
        installed.run("govnet", "daemon", "--config", "deploy/daemon.yml", "--check", env=secrets)
    )
    assert done.stdout.startswith("deploy/daemon.yml: valid: "), done.stdout


def test_govnet_lab_without_the_extra_says_how_to_get_it(installed: Installed) -> None:
    done = installed.run("govnet", "lab", "up", "--name", "nope")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [LAB_EXTRA_MESSAGE]
    assert done.stdout == ""


def _docker() -> str | None:
    """The docker client, when a Docker daemon answers it."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        answered = subprocess.run([docker, "info"], capture_output=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return None
    return docker if answered.returncode == 0 else None


DOCKER = _docker()

if DOCKER is not None:
    # Only where a Docker daemon answers (never a skip: CI runs every test it collects); elsewhere
    # the virtualenv tests above run the image's steps: wheels only, no compiler, no lab extra.

    def test_the_image_builds_where_docker_runs() -> None:
        """The Dockerfile itself."""
        assert DOCKER is not None
        tag = f"govnet-test:{os.getpid()}"
        build = [DOCKER, "build", "-q", "-f", "deploy/Dockerfile", "-t", tag, "."]
        try:
            _checked(
                subprocess.run(build, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False)
            )
            done = subprocess.run(
                [DOCKER, "run", "--rm", tag, "--version"], capture_output=True, text=True, check=False
            )
            assert _checked(done).stdout.strip() == f"govnet, version {__version__}"
        finally:
            subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True, check=False)


def test_a_readable_copy_runs_govnet_as_nobody() -> None:
    """What tests/nobody.py falls back to under /root (scripts/check-anywhere runs it there):
    made and used here too, wherever the checkout is, so the fallback is never untested."""
    need(os.geteuid() == 0 and shutil.which("setpriv") is not None, "needs root and setpriv")
    base = Path(tempfile.mkdtemp(prefix="govnet-nobody-test-"))
    try:
        copy = nobody.readable_copy(base)
        assert nobody.works(copy)
        probe = "import os, govnet.resources as r; print(os.getuid(), r.data_dir('configs'))"
        done = _checked(
            subprocess.run(
                copy.command("-c", probe), cwd=copy.root, capture_output=True, text=True, check=False
            )
        )
        assert done.stdout.split() == [str(nobody.NOBODY), str(copy.root / "configs")]
        version = _checked(
            subprocess.run(
                copy.command("-m", "govnet", "--version"),
                cwd=copy.root,
                capture_output=True,
                text=True,
                check=False,
            )
        )
        assert version.stdout.strip() == f"govnet, version {__version__}"
    finally:
        shutil.rmtree(base)
