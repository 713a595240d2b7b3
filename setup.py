"""The build hook that puts govnet's data folders inside its wheel (everything else is pyproject.toml).

``configs/``, ``exporters/`` and ``probes/`` stay at the top of the repository, where DESIGN.md
puts them and where they are edited; a wheel can only carry what is inside a package, so
``build_py`` copies them to ``govnet/_data/`` in the build tree. ``govnet.resources`` reads that
copy in an installed govnet and the checkout's own folders otherwise. An editable install copies
nothing: it runs from the checkout, whose folders are the ones to read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = ("configs", "exporters", "probes")
TARGET = Path("govnet", "_data")  # govnet.resources.SHIPPED
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        here = Path(__file__).resolve().parent
        for name in DATA:
            target = Path(self.build_lib) / TARGET / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(here / name, target, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithData})
