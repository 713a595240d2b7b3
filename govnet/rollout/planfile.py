"""The plan file: what ``rollout plan`` decided, and the fingerprints that make it go stale.

JSON (read back with the strict YAML reader, so a hand-edited plan gets ``FILE:LINE`` errors).
It records the inventory's and the templates' hashes and each device's running-config hash at
planning time; ``apply`` refuses the plan if any of them moved. A ``digest`` over the rest of the
plan catches a file edited by hand after planning (a changed command, hash or unit list): what
was reviewed is what is applied. It is a checksum, not a signature: the plan file's 0600 mode and
the state directory's owner are what keep others out. It holds no secret: commands keep
``<<secret:…>>`` placeholders that only the push substitutes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from govnet.errors import GovnetError, InventoryError, Problem, UsageError
from govnet.inventory.merge import inventory_files
from govnet.inventory.problems import from_pydantic
from govnet.inventory.yamlsrc import load_yaml, read_text
from govnet.osutil.files import write_atomically
from govnet.strict import Strict

FORMAT = "govnet-plan/1"
Status = Literal["change", "nochange", "refused"]


class PlanUnit(Strict):
    id: str
    device: str
    platform: str
    host: str
    status: Status
    commands: list[str] = []
    reason: str = ""
    running_hash: str | None = None
    missing: Annotated[int, Field(ge=0)] = 0
    extra: Annotated[int, Field(ge=0)] = 0
    kinds: dict[str, list[int]] = {}
    added: list[str] = []
    removed: list[str] = []


LATER_FIELDS = ("added", "removed")
"""``PlanUnit`` fields newer than the format: left out of the digest when empty, so a plan
written before they existed still reads (its digest was made without them)."""


class Scope(Strict):
    segment: Literal["intranet", "party", "extranet"]
    wave: int | None = None
    units: list[str] = []
    offline: bool = False


class Plan(Strict):
    format: Literal["govnet-plan/1"]
    created: float
    user: str
    inventory: str
    inventory_hash: str
    templates: str
    templates_hash: str
    scope: Scope
    units: list[PlanUnit]
    digest: str = ""

    @property
    def changes(self) -> list[PlanUnit]:
        return [u for u in self.units if u.status == "change"]


def tree_hash(paths: list[Path], root: Path) -> str:
    """A fingerprint of a set of files (names relative to ``root`` and contents)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def inventory_hash(path: Path) -> str:
    files = inventory_files(path)
    return tree_hash(files, path if path.is_dir() else path.parent)


def templates_hash(path: Path) -> str:
    if not path.is_dir():
        raise GovnetError(f"{path}: no templates folder (set --templates)")
    return tree_hash([p for p in path.rglob("*") if p.is_file() and p.suffix == ".j2"], path)


def content_digest(data: dict[str, Any]) -> str:
    """sha256 of the plan's canonical JSON without its ``digest`` field."""
    body = {k: v for k, v in data.items() if k != "digest"}
    if isinstance(body.get("units"), list):
        body["units"] = [
            {k: v for k, v in u.items() if k not in LATER_FIELDS or v} if isinstance(u, dict) else u
            for u in body["units"]
        ]
    return hashlib.sha256(
        json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def write(plan: Plan, path: Path) -> None:
    """Write atomically; the file is 0600 like everything govnet keeps about devices."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = plan.model_dump(mode="json")
    data["digest"] = content_digest(data)
    write_atomically(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def read(path: Path) -> tuple[Plan, str]:
    """(the plan, its content hash); every problem as ``FILE:LINE: field: message``."""
    shown = str(path)
    try:
        path.stat()
    except FileNotFoundError:
        raise UsageError(
            f"{shown}: no such plan file (make one with govnet rollout plan --out {shown})"
        ) from None
    except OSError as exc:  # e.g. a folder on the way that this user may not enter
        raise GovnetError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if not path.is_file():
        raise UsageError(f"{shown}: not a regular file (a plan is a file made by govnet rollout plan --out)")
    try:
        raw = load_yaml(read_text(path, shown), shown)
    except InventoryError as exc:
        raise GovnetError(exc.problems) from None
    if raw.get("format") != FORMAT:
        line = raw.key_marks["format"].line if "format" in raw else 1
        raise GovnetError(Problem(f"not a govnet plan (format must be {FORMAT})", shown, line, "format"))
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        raise GovnetError(from_pydantic(exc, raw, Plan)) from None
    line = raw.key_marks["digest"].line if "digest" in raw else 1
    if not plan.digest:
        raise GovnetError(
            Problem("the plan has no digest (plan again with this govnet)", shown, line, "digest")
        )
    if content_digest(plan.model_dump(mode="json")) != plan.digest:
        raise GovnetError(
            Problem(
                "the plan was edited after it was made (its digest does not match); plan again",
                shown,
                line,
                "digest",
            )
        )
    return plan, hashlib.sha256(path.read_bytes()).hexdigest()


def summary(plan: Plan) -> dict[str, Any]:
    counts = {s: sum(1 for u in plan.units if u.status == s) for s in ("change", "nochange", "refused")}
    return {"segment": plan.scope.segment, "wave": plan.scope.wave, **counts}
