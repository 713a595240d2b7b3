"""Where govnet finds the data it ships: templates, monitoring files and probe profiles.

DESIGN.md keeps them in top-level folders beside the package (``configs/``, ``exporters/``,
``probes/``), where engineers edit and review them. A wheel cannot carry folders outside its
packages, so the build (``setup.py``) copies them into ``govnet/_data/``; an installed govnet
reads that copy, and a source checkout (or an editable install) reads its own folders, which
therefore always win (a checkout: ``pyproject.toml`` beside the package, so that another
distribution's top-level ``probes/`` in site-packages is never taken for ours). Every path to these folders goes through ``data_dir``: nothing else may
guess at ``Path(__file__).parents``.

``python -m govnet.resources [NAME]`` prints where they are, e.g. to copy the Prometheus rules
and Alertmanager templates of an installed govnet (deploy/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

Name = Literal["configs", "exporters", "probes"]
NAMES: tuple[Name, ...] = ("configs", "exporters", "probes")
PACKAGE = Path(__file__).resolve().parent
SHIPPED = PACKAGE / "_data"
"""Where the build puts the copies (setup.py names the same folder)."""


def data_dir(name: Name) -> Path:
    """The folder ``name``: the checkout's own when govnet runs from one, else the shipped copy.

    >>> data_dir("configs").name
    'configs'
    >>> (data_dir("exporters") / "prometheus" / "govnet.rules.yml").is_file()
    True
    """
    if name not in NAMES:
        raise ValueError(f"not a govnet data folder: {name!r}")
    checkout = PACKAGE.parent / name
    if (PACKAGE.parent / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return SHIPPED / name


def default_templates(cwd_folder: str = "configs") -> str:
    """The templates folder when neither ``--templates`` nor ``GOVNET_TEMPLATES`` names one.

    ``configs`` in the working directory (a checkout, or a site's own copy beside its
    inventory) as before; where there is none, the templates govnet ships.
    """
    if Path(cwd_folder).is_dir():
        return cwd_folder
    return str(data_dir("configs"))


def main(argv: list[str]) -> int:
    """Print the folder of each name given (all of them when none is)."""
    names = argv or list(NAMES)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        print(f"govnet.resources: unknown folder {unknown[0]!r} (one of {', '.join(NAMES)})", file=sys.stderr)
        return 2
    for name in (n for n in NAMES if n in names):
        print(f"{name}\t{data_dir(name)}" if not argv else data_dir(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
