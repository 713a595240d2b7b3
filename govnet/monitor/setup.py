"""Everything the daemon derives from its config file, built together and swapped together.

A `Setup` is the config, the `WatchedSite` its inventory describes (loaded in a child process, see
`govnet.monitor.site`), the jobs, one probe per job and each job's targets, built and checked
up front: a bad probe setting, a missing vantage namespace, an unreadable inventory or an
unresolvable secret fails *here*, at start or at a SIGHUP reload, naming ``FILE:LINE``, and a
reload that fails leaves the running setup untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from govnet.errors import ConfigError, GovnetError
from govnet.inventory.select import Shard
from govnet.monitor.config import DaemonConfig, load_config
from govnet.monitor.site import WatchedSite, load_site_bytes, site_from_bytes
from govnet.monitor.targets import TargetSet, gate, icmp_targets, snmp_targets, tcp_targets
from govnet.osutil.forked import in_child
from govnet.probes.base import Probe, ProbeResult, Target
from govnet.probes.kind import Registry, TargetRule
from govnet.probes.path.probe import PathProbe

LOAD_TIMEOUT = 900.0

JOBS: dict[TargetRule, str | None] = {
    "addresses": None,
    "services": None,
    "devices": "management",
    "isolation": "party",
}
"""A kind's jobs by its target rule: one per segment of the site (None), or one job only."""


def plan_jobs(config: DaemonConfig, site: WatchedSite) -> list[tuple[str, str]]:
    """(kind, segment) pairs the scheduler runs: every enabled kind of the registry, per its targets."""
    out: list[tuple[str, str]] = []
    for name, kind in config.kinds.items():
        if config.enabled(name):
            only = JOBS[kind.targets]
            out += [(name, only)] if only else [(name, s) for s in site.segments]
    return out


def make_probe(config: DaemonConfig, kind: str, segment: str | None) -> Probe:
    """A job's probe from its (segment's) block; a probe that cannot be built is a ``ConfigError`` at its line."""
    try:
        return config.kinds[kind].build(config.settings(kind, segment))
    except ConfigError as exc:
        raise config.probe_error(kind, segment, exc) from None


def make_path_probe(config: DaemonConfig) -> PathProbe:
    """Path localisation (the ``path:`` section), sent only inside ``allowed_networks``."""
    settings = config.path.model_copy(update={"allowed_networks": tuple(config.allowed_networks)})
    try:
        return PathProbe(settings)
    except ConfigError as exc:
        raise config.probe_error("path", None, exc) from None


async def load_site(path: Path, shard: Shard | None = None, kinds: Registry | None = None) -> WatchedSite:
    """The config's site, loaded and validated in a forked child (its memory peak stays there)."""
    return site_from_bytes(
        await in_child(lambda: load_site_bytes(path, shard, kinds), LOAD_TIMEOUT, "loading the inventory")
    )


@dataclass
class Setup:
    config: DaemonConfig
    site: WatchedSite
    jobs: list[tuple[str, str]]
    resolve: Callable[[str], str]
    probes: dict[tuple[str, str], Probe] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    """Device management address → unit or node id (whose trap is it?)."""
    _targets: dict[tuple[str, str], TargetSet] = field(default_factory=dict)

    @classmethod
    async def open(
        cls,
        path: Path,
        resolve: Callable[[str], str],
        shard: Shard | None = None,
        kinds: Registry | None = None,
    ) -> Setup:
        """Config, site, every job's probe and targets; nothing is left open on error.

        ``shard`` overrides the config's ``shard:`` (``govnet daemon --shard``), reloads included.
        """
        config = load_config(path, shard, kinds)
        site = await load_site(path, shard, kinds)
        setup = cls(config, site, plan_jobs(config, site), resolve)
        for element in (*site.nodes, *site.units):
            for host in element.hosts:
                setup.hosts.setdefault(host, element.id)
        try:
            for kind, segment in setup.jobs:
                setup.probes[(kind, segment)] = make_probe(config, kind, segment)
            for kind, segment in setup.jobs:
                setup.targets(kind, segment)  # resolves every secret a cycle will need
        except GovnetError:
            await setup.close()
            raise
        return setup

    @property
    def owned(self) -> frozenset[str]:
        return self.site.owned

    def probe(self, kind: str, segment: str) -> Probe:
        return self.probes[(kind, segment)]

    def targets(self, kind: str, segment: str) -> TargetSet:
        """This job's targets, every one through the ``allowed_networks`` gate; built once."""
        found = self._targets.get((kind, segment))
        if found is None:
            found = self._targets[(kind, segment)] = self._build_targets(kind, segment)
        return found

    def _build_targets(self, kind: str, segment: str) -> TargetSet:
        rule = self.config.kinds[kind].targets
        facts = self.config.kinds[kind].device_params
        if rule == "addresses":
            return icmp_targets(self.config, self.site, self.owned, segment)
        if rule == "services":
            return tcp_targets(self.config, self.site, self.owned, segment)
        if rule == "devices":
            return snmp_targets(self.config, self.site, self.owned, self.resolve, facts)
        return gate(self.config, list(self.site.isolation))

    async def run(self, kind: str, segment: str, deadline: float) -> list[ProbeResult]:
        """One cycle of a job's probe over its targets (SNMP `SNMP_CHUNK` at a time)."""
        targets = self.targets(kind, segment).targets
        size = self.config.kinds[kind].batch or len(targets)
        return await in_chunks(self.probe(kind, segment), targets, deadline, size)

    def job_targets(self) -> dict[tuple[str, str], list[Target]]:
        """Every job's targets (allowed ones)."""
        return {job: self.targets(*job).targets for job in self.jobs}

    def refused(self) -> dict[str, list[str]]:
        """Per job, the targets outside ``allowed_networks`` (never probed), as ``unit/segment ADDRESS``."""
        return {f"{k}/{s}": self.targets(k, s).refused for k, s in self.jobs if self.targets(k, s).refused}

    async def close(self) -> None:
        for probe in self.probes.values():
            await probe.close()


async def in_chunks(probe: Probe, targets: list[Target], deadline: float, size: int) -> list[ProbeResult]:
    """``probe.run`` over ``targets`` ``size`` at a time, all within ``deadline`` seconds."""
    if not targets:
        return []
    end = time.monotonic() + deadline
    results: list[ProbeResult] = []
    for start in range(0, len(targets), max(1, size)):
        batch = targets[start : start + size]
        left = end - time.monotonic()
        if left <= 0:
            reason = f"timeout: cycle deadline of {deadline:g} s reached"
            results += [ProbeResult(probe.name, t, False, reason) for t in targets[start:]]
            break
        results += await probe.run(batch, left)
    return results
