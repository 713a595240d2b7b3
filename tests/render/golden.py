"""The golden files: what each is made from, and the one writer of them (``scripts/update-golden``).

Tests only compare with these files; after an intended change to the templates or the shipped
site, ``scripts/update-golden`` rewrites them and the diff is reviewed like code.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

from govnet.cli.main import run
from govnet.inventory.loader import load
from govnet.inventory.models import Inventory
from govnet.render import render_device
from tests.helpers import DATA, ROOT

GOLDEN = DATA / "golden"
CONFIGS = GOLDEN / "configs"
STATS = GOLDEN / "luohe-stats.json"

# Representative devices of the shipped site whose rendered configuration is kept.
CASES = [
    "sz-shiwei-ban",  # Huawei VRP, intranet + party + extranet (wave 1)
    "sz-guoshui",  # Cisco IOS, all three segments
    "sz-gongan",  # Cisco IOS, intranet + party
    "wy-wuquan",  # H3C Comware township, party only
    "ly-taichen",  # H3C Comware township without a signed agreement on file
    "core-city",  # the core node, with the provincial party uplink
    "agg-wuyang",  # an H3C aggregation node
    "agg-shizhi-a",  # a Huawei aggregation node
]


def rendered(site: Inventory, ident: str) -> tuple[Path, str]:
    """The golden file of device ``ident`` and the text the templates render for it now."""
    element = site.element(ident)
    assert element is not None, ident
    device = element.device
    text = render_device(site, element, device, ROOT / "configs").text
    return CONFIGS / f"{ident}__{device.name}.cfg", text


def stats() -> str:
    """``govnet inventory stats --json`` of the shipped site."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = run(["inventory", "stats", "--json", "--inventory", str(ROOT / "inventory")])
    assert code == 0, f"inventory stats exited {code}"
    return out.getvalue()


def update() -> list[Path]:
    """Rewrite every golden file, remove stale ones; the files that changed."""
    site = load(ROOT / "inventory").inventory
    wanted = dict(rendered(site, ident) for ident in CASES)
    wanted[STATS] = stats()
    changed = [
        path for path, text in wanted.items() if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    CONFIGS.mkdir(parents=True, exist_ok=True)
    for path in changed:
        path.write_text(wanted[path], encoding="utf-8")
    stale = [path for path in CONFIGS.glob("*.cfg") if path not in wanted]
    for path in stale:
        path.unlink()
    return changed + stale


def main() -> int:
    changed = update()
    for path in changed:
        print(f"update-golden: {path.relative_to(ROOT)}")
    print(f"update-golden: {len(changed)} file(s) changed; review them with git diff")
    return 0


if __name__ == "__main__":
    sys.exit(main())
