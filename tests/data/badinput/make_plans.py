"""Regenerate the plan-file fixtures: ``.venv/bin/python tests/data/badinput/make_plans.py``.

The base plan names tests/data/valid/minimal.yml and the empty templates folder beside this
script, so its inventory and templates hashes stay valid as long as those do; every fixture
is that plan with one thing wrong. None of them is ever applied to a device.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govnet.rollout import planfile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PLANS = HERE / "plans"


def base() -> dict[str, Any]:
    inventory = Path("tests/data/valid/minimal.yml")
    templates = Path("tests/data/badinput/no-templates")
    return {
        "format": planfile.FORMAT,
        "created": 1764000000.0,
        "user": "planner",
        "inventory": str(inventory),
        "inventory_hash": planfile.inventory_hash(ROOT / inventory),
        "templates": str(templates),
        "templates_hash": planfile.templates_hash(ROOT / templates),
        "scope": {"segment": "intranet", "wave": None, "units": [], "offline": False},
        "units": [
            {
                "id": "sz-fagaiwei",
                "device": "FGW-AS01",
                "platform": "huawei_vrp",
                "host": "10.40.10.11",
                "status": "change",
                "commands": ["interface Vlanif101", " ip address 10.111.1.1 255.255.255.0"],
                "reason": "",
                "running_hash": "0" * 64,
                "missing": 2,
                "extra": 0,
                "kinds": {"intranet": [0, 1]},
            }
        ],
    }


def dump(name: str, data: dict[str, Any], *, sign: bool = True) -> None:
    if sign:
        data["digest"] = planfile.content_digest(data)
    (PLANS / name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def main() -> None:
    PLANS.mkdir(exist_ok=True)
    good = base()
    good["digest"] = planfile.content_digest(good)
    text = json.dumps(good, ensure_ascii=False, indent=1) + "\n"
    # Valid and fresh: only ever used WITHOUT --yes (refused off a terminal before any work).
    (PLANS / "fresh-needs-yes.json").write_text(text)
    (PLANS / "truncated.json").write_text(text[: len(text) // 2])
    (PLANS / "not-a-plan.txt").write_text("this is not a plan, just a note\n")
    (PLANS / "empty.json").write_text("")
    (PLANS / "not-utf8.json").write_bytes(text.encode()[:40] + b"\xff\xfe" + text.encode()[40:])
    (PLANS / "top-level-list.json").write_text("[1, 2, 3]\n")

    data = base()
    data["format"] = "govnet-plan/2"
    dump("wrong-format.json", data)

    data = base()
    dump("no-digest.json", data, sign=False)

    data = base()
    data["digest"] = planfile.content_digest(data)
    data["inventory_hash"] = "f" * 64
    dump("edited-hash.json", data, sign=False)

    data = base()
    data["digest"] = planfile.content_digest(data)
    data["units"][0]["commands"].append("undo firewall enable")
    dump("tampered-commands.json", data, sign=False)

    data = base()
    data["units"][0]["id"] = "sz-nosuch"
    dump("unknown-unit.json", data)

    data = base()
    data["units"][0]["device"] = "FGW-AS99"
    dump("unknown-device.json", data)

    data = base()
    data["inventory_hash"] = "a" * 64
    dump("other-inventory.json", data)

    data = base()
    data["templates_hash"] = "b" * 64
    dump("templates-changed.json", data)

    data = base()
    data["approved_by"] = "mallory"
    dump("unknown-key.json", data)

    data = base()
    data["units"][0]["status"] = "maybe"
    dump("bad-status.json", data)

    data = base()
    data["scope"]["segment"] = "internet"
    dump("unknown-segment.json", data)

    data = base()
    data["units"][0]["commands"] = "interface Vlanif101"
    dump("commands-not-a-list.json", data)

    data = base()
    data["units"][0]["missing"] = -1
    dump("negative-count.json", data)


if __name__ == "__main__":
    main()
