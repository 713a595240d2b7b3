"""The ``isolation`` probe: negative checks that SUCCEED only when the target does NOT answer.

Why it exists: the party network (党务网) rides the intranet's devices in its own VRF; one wrong
route leak and classified hosts can reach, or be reached from, the intranet. Nothing else in the
monitoring notices, because every positive probe still succeeds. So govnet sends echo requests
from a *vantage point* inside one network to addresses of another (`govnet.probes.isolation.matrix`) and
raises the alarm when any of them answers.

A vantage is a source address, optionally inside a network namespace (a Linux stand-in for a
VRF leg of the monitoring host). The probe is built on the ``icmp`` probe: one `IcmpProbe` per
vantage, its raw socket opened *inside* the vantage's namespace (`in_netns`), so the kernel
routes its echoes through that namespace's tables; ``Target.source`` picks the address (the
party address of the lab's prober is routed into the party VRF by a policy rule).

A result per target: ``success`` True and detail ``isolated`` when no echo was answered (a
timeout or an ICMP unreachable both mean "no path"); ``BREACH: ADDR answered from vantage
NAME`` otherwise; ``values["answered"]`` counts the answered echoes. A target that could not be
probed at all (address not allowed, no socket, unknown vantage) is a failure too: isolation that
was not checked is not isolation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Sequence
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator

from govnet.errors import ConfigError, GovnetError, Problem
from govnet.inventory.models import Inventory
from govnet.osutil.netns import in_netns, netns_path
from govnet.probes.base import ProbeResult, Target
from govnet.probes.common import SourcedVantage, Vantage, named
from govnet.probes.icmp.probe import NOT_ALLOWED, IcmpProbe, IcmpSettings
from govnet.probes.isolation.matrix import KINDS, MATRIX, isolation_targets

__all__ = [
    "MATRIX",
    "IsolationProbe",
    "IsolationSettings",
    "Vantage",
    "isolation_targets",
]

ISOLATED = "isolated"
BREACH = "BREACH"
"""How a negative check that was answered starts its detail."""


def _not_itself(matrix: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    for segment, kinds in matrix.items():
        if segment in kinds:
            raise ValueError(f"a segment cannot be isolated from itself ({segment})")
    return matrix


class IsolationSettings(IcmpSettings):
    """Vantages, the matrix, and the echo settings (those of `IcmpSettings`) of each vantage's probe."""

    kind: ClassVar[str] = "isolation"
    vantages: Annotated[dict[str, SourcedVantage], AfterValidator(named)]
    matrix: Annotated[
        dict[Literal["intranet", "party", "extranet"], tuple[Literal[KINDS], ...]],  # type: ignore[valid-type]
        AfterValidator(_not_itself),
    ] = MATRIX  # type: ignore[assignment]

    @property
    def icmp(self) -> IcmpSettings:
        """The echo settings alone, for the `IcmpProbe` of each vantage."""
        return IcmpSettings(**{name: getattr(self, name) for name in IcmpSettings.model_fields})


class IsolationProbe:
    """Negative echo probes from several vantage points, one ICMP socket per vantage."""

    name = "isolation"

    def __init__(self, settings: IsolationSettings) -> None:
        """Open every vantage's socket now, in its namespace: a missing namespace fails at load."""
        self.settings = settings
        for vantage in settings.vantages.values():
            if vantage.netns is not None and not os.path.exists(netns_path(vantage.netns)):
                raise ConfigError(
                    Problem(
                        f"network namespace {vantage.netns} does not exist",
                        field=f"vantages.{vantage.name}.netns",
                    )
                )
        self._probes: dict[str, IcmpProbe] = {}
        for name, vantage in settings.vantages.items():
            self._probes[name] = self._open(vantage)

    def _open(self, vantage: Vantage) -> IcmpProbe:
        if vantage.netns is None:
            return IcmpProbe(self.settings.icmp)
        icmp = self.settings.icmp
        try:
            return in_netns(vantage.netns, lambda: IcmpProbe(icmp))
        except GovnetError as exc:  # the namespace vanished meanwhile, or setns was refused
            raise ConfigError(Problem(str(exc), field=f"vantages.{vantage.name}.netns")) from None

    def targets(self, inventory: Inventory) -> list[Target]:
        """The isolation matrix of ``inventory`` for this probe's vantages (`isolation_targets`)."""
        return isolation_targets(inventory, self.settings.vantages, self.settings.matrix)

    async def close(self) -> None:
        for probe in self._probes.values():
            await probe.close()

    async def run(self, targets: Sequence[Target], timeout: float) -> list[ProbeResult]:
        results: list[ProbeResult | None] = [None] * len(targets)
        groups: dict[str, list[int]] = {}
        only = next(iter(self._probes)) if len(self._probes) == 1 else None
        for j, target in enumerate(targets):
            name = target.params.get("vantage", only)
            if name in self._probes:
                groups.setdefault(name, []).append(j)
            else:
                results[j] = ProbeResult(self.name, target, False, f"not probed: unknown vantage {name!r}")

        async def batch(name: str, indexes: list[int]) -> list[ProbeResult]:
            source = self.settings.vantages[name].source
            planned = [dataclasses.replace(targets[j], source=targets[j].source or source) for j in indexes]
            return await self._probes[name].run(planned, timeout)

        answered = await asyncio.gather(*(batch(name, indexes) for name, indexes in groups.items()))
        for (name, indexes), echoes in zip(groups.items(), answered, strict=True):
            for j, echo in zip(indexes, echoes, strict=True):
                results[j] = _verdict(targets[j], name, echo)
        return [r for r in results if r is not None]


def checked(result: ProbeResult) -> bool:
    """Whether a negative check gave a verdict: isolated, or BREACH. A check that could not be
    sent (deadline, vantage not ready, address not allowed) says nothing about isolation and must
    never read as a breach."""
    return result.success or result.detail.startswith(BREACH)


def _verdict(target: Target, vantage: str, echo: ProbeResult) -> ProbeResult:
    """Turn what the icmp probe saw into the negative check's result (see module doc)."""
    not_sent = echo.loss_ratio is None or (echo.sent == 0 and "unreachable" not in echo.detail)
    if not_sent:
        detail = echo.detail if echo.detail == NOT_ALLOWED else f"not probed: {echo.detail}"
        return ProbeResult("isolation", target, False, detail, values={"answered": 0}, at=echo.at)
    if echo.received:
        return ProbeResult(
            "isolation",
            target,
            False,
            f"{BREACH}: {target.address} answered from vantage {vantage}",
            rtt_seconds=echo.rtt_seconds,
            sent=echo.sent,
            received=echo.received,
            values={"answered": echo.received},
            at=echo.at,
        )
    return ProbeResult(
        "isolation", target, True, ISOLATED, sent=echo.sent, values={"answered": 0}, at=echo.at
    )
