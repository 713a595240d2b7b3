"""Choosing units: by segment, group, kind, wave, id, and by shard.

Shards use rendezvous (highest-random-weight) hashing on the unit id: every daemon computes
the same owner without talking to the others, and going from N to N+1 shards moves only the
~1/(N+1) of units that the new shard wins.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from govnet.errors import UsageError
from govnet.inventory.models import Inventory, Unit

SHARD_RE = re.compile(r"^([0-9]+)/([0-9]+)$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse ``K/N``.

        >>> Shard.parse("2/3")
        Shard(index=2, count=3)
        """
        match = SHARD_RE.match(text.strip())
        if not match:
            raise UsageError(f"shard '{text}': expected K/N, e.g. 1/3")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count or count > 1024:
            raise UsageError(f"shard '{text}': K must be between 1 and N (N at most 1024)")
        return cls(index, count)

    def owns(self, unit_id: str) -> bool:
        return owner(unit_id, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def owner(unit_id: str, count: int) -> int:
    """The 1-based shard that owns ``unit_id`` among ``count`` shards.

    >>> owner("sz-fagaiwei", 1)
    1
    """
    best, best_score = 1, b""
    for index in range(1, count + 1):
        score = hashlib.blake2b(f"{index}:{unit_id}".encode(), digest_size=8).digest()
        if score > best_score:
            best, best_score = index, score
    return best


def select(
    inv: Inventory,
    *,
    segment: str | None = None,
    groups: Iterable[str] = (),
    kind: str | None = None,
    wave: int | None = None,
    ids: Sequence[str] = (),
    shard: Shard | None = None,
) -> list[Unit]:
    """Units matching every given filter, in inventory order; unknown ids are usage errors."""
    wanted: set[str] | None = None
    if ids:
        wanted = set()
        for ident in ids:
            unit = inv.unit(ident)
            if unit is None:
                raise UsageError(f"unknown unit '{ident}'")
            wanted.add(unit.id)
    group_set = set(groups)
    unknown = group_set - set(inv.group_names)
    if unknown:
        raise UsageError(f"unknown group '{sorted(unknown)[0]}' (groups: {', '.join(inv.group_names)})")
    chosen = []
    for unit in inv.units:
        if wanted is not None and unit.id not in wanted:
            continue
        if segment is not None and segment not in unit.segments:
            continue
        if group_set and not group_set.issubset(unit.groups):
            continue
        if kind is not None and unit.kind != kind:
            continue
        if wave is not None:
            extranet = unit.segments.get("extranet")
            if extranet is None or extranet.wave != wave:
                continue
        if shard is not None and not shard.owns(unit.id):
            continue
        chosen.append(unit)
    return chosen
