"""Run govnet as the unprivileged user ``nobody`` from wherever the checkout is.

Some tests drop to uid 65534 with ``setpriv`` (the daemon with only CAP_NET_RAW, the bad-input
cases root would read anyway, ``govnet lab`` saying it needs root). That user must be able to
read the interpreter's packages and govnet itself: true for a checkout under /work or /srv,
false under /root (mode 0700, where root's clones usually live). ``install()`` answers with what
uid 65534 can run: the test session's own interpreter and checkout when it can already import
govnet from them, else a copy made once per session in a world-readable temporary folder (the
virtualenv's packages, and the checkout's code and data folders), removed at exit.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT

NOBODY = 65534
AS_NOBODY = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
COPIED = ("pyproject.toml", "govnet", "configs", "exporters", "probes", "inventory")
"""What of the checkout a command as nobody may need: the code, its data (pyproject.toml marks a
checkout, govnet.resources), the shipped inventory."""
PROBE = "import os, govnet.cli.main, govnet.monitor.daemon, netmiko, pysnmp, scapy; os.listdir('.')"
"""What ``install()`` checks uid 65534 can do: import govnet and its dependencies, read its cwd."""


@dataclass(frozen=True)
class Install:
    """An interpreter with govnet importable by uid 65534, and a checkout it can read (a cwd)."""

    python: str
    root: Path

    def command(self, *args: str, caps: tuple[str, ...] = ()) -> list[str]:
        """``python ARGS`` as nobody (``caps``: more setpriv options, e.g. ambient capabilities)."""
        return [*AS_NOBODY, *caps, self.python, *args]


def works(install: Install) -> bool:
    """Whether uid 65534 can import govnet with ``install.python`` from ``install.root``."""
    done = subprocess.run(
        [*AS_NOBODY, install.python, "-c", PROBE],
        cwd=install.root,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode == 0


_LOCK = threading.Lock()  # the bad-input cases run four at a time: one copy for all


def install() -> Install:
    """The session's interpreter and checkout if uid 65534 can use them, else a readable copy."""
    with _LOCK:
        return _install()


@functools.cache
def _install() -> Install:
    here = Install(sys.executable, ROOT)
    if works(here):
        return here
    copy = readable_copy(Path(tempfile.mkdtemp(prefix="govnet-nobody-")))
    atexit.register(shutil.rmtree, copy.root.parent, ignore_errors=True)
    assert works(copy), f"uid {NOBODY} cannot import govnet even from a copy in {copy.root.parent}"
    return copy


def readable_copy(base: Path) -> Install:
    """A virtualenv in ``base`` with this one's packages, govnet from a copy of the checkout.

    The copy's packages are hard links where the file system allows (the same files, mode 0644)
    and copies elsewhere; the editable install's hook is left out, a ``.pth`` names the copy.
    """
    base.chmod(0o755)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = Path(sysconfig.get_paths()["purelib"])
    target = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    shutil.rmtree(target)
    skip = shutil.ignore_patterns("__editable__*", "govnet-*.dist-info", "__pycache__")
    shutil.copytree(purelib, target, ignore=skip, copy_function=_link_or_copy)
    checkout = base / "checkout"
    checkout.mkdir()
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, checkout / name)
    (target / "govnet-checkout.pth").write_text(f"{checkout}\n")
    for path in [base, *base.rglob("*")]:  # whatever umask root has
        mode = path.lstat().st_mode
        wanted = mode | (0o555 if path.is_dir() else 0o444)
        if not path.is_symlink() and mode != wanted:
            path.chmod(wanted)
    return Install(str(venv / "bin" / "python"), checkout)


def _link_or_copy(source: str, target: str) -> object:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target
