"""Everything the daemon derives from its config file, built together and swapped together.

A `Setup` is the config, the `Site` its inventory describes (loaded in a child process, see
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
from govnet.monitor.site import Site, load_site_bytes, site_from_bytes
from govnet.monitor.targets import TargetSet, gate, icmp_targets, snmp_targets, tcp_targets
from govnet.osutil.forked import in_child
from govnet.probes import base, icmp, isolation, path, snmp, tcp
from govnet.probes.base import Probe, ProbeResult, Target

PROBE_MODULES = (icmp, isolation, path, snmp, tcp)
"""Importing these registers the probes; the daemon knows probes by name only."""
LOAD_TIMEOUT = 900.0
SNMP_CHUNK = 512
"""SNMP targets handed to the probe at once: it runs a task per target, and 10,000 tasks at once
cost ~40 MB that the process keeps (fragmented) after the cycle; its in-flight limit is lower anyway."""


def plan_jobs(config: DaemonConfig, site: Site) -> list[tuple[str, str]]:
    """(probe, segment) pairs the scheduler runs: ICMP and TCP per segment, SNMP, isolation."""
    out: list[tuple[str, str]] = []
    for kind in ("icmp", "tcp"):
        if config.enabled(kind):
            out += [(kind, s) for s in site.segments]
    if config.enabled("snmp"):
        out.append(("snmp", "management"))
    if "isolation" in config.probes and config.enabled("isolation"):
        out.append(("isolation", "party"))
    return out


def make_probe(config: DaemonConfig, kind: str, segment: str | None) -> Probe:
    """A probe from its (segment's) block; a bad setting is a ``ConfigError`` at its line."""
    if kind == "path":
        settings: dict[str, object] = config.path.model_dump(exclude={"enabled"})
    else:
        block = config.block(kind, segment)
        settings = dict(block.settings if block else {})
        if "echo_interval" in settings and kind in ("icmp", "isolation"):
            # `interval` is the scheduler's (seconds between cycles); the probe's own `interval`
            # (seconds between two echoes to one target) is spelled echo_interval here
            settings["interval"] = settings.pop("echo_interval")
    if kind != "snmp":
        settings["allowed_networks"] = [str(n) for n in config.allowed_networks]
    try:
        return base.REGISTRY[kind](settings)
    except ConfigError as exc:
        raise config.settings_error(kind, segment, exc, settings) from None


async def load_site(path: Path, shard: Shard | None = None) -> Site:
    """The config's site, loaded and validated in a forked child (its memory peak stays there)."""
    return site_from_bytes(
        await in_child(lambda: load_site_bytes(path, shard), LOAD_TIMEOUT, "loading the inventory")
    )


@dataclass
class Setup:
    config: DaemonConfig
    site: Site
    jobs: list[tuple[str, str]]
    resolve: Callable[[str], str]
    probes: dict[tuple[str, str], Probe] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    """Device management address → unit or node id (whose trap is it?)."""
    _targets: dict[tuple[str, str], TargetSet] = field(default_factory=dict)

    @classmethod
    async def open(cls, path: Path, resolve: Callable[[str], str], shard: Shard | None = None) -> Setup:
        """Config, site, every job's probe and targets; nothing is left open on error.

        ``shard`` overrides the config's ``shard:`` (``govnet daemon --shard``), reloads included.
        """
        config = load_config(path, shard)
        site = await load_site(path, shard)
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
        if kind == "icmp":
            return icmp_targets(self.config, self.site, self.owned, segment)
        if kind == "tcp":
            return tcp_targets(self.config, self.site, self.owned, segment)
        if kind == "snmp":
            return snmp_targets(self.config, self.site, self.owned, self.resolve)
        return gate(self.config, list(self.site.isolation))

    async def run(self, kind: str, segment: str, deadline: float) -> list[ProbeResult]:
        """One cycle of a job's probe over its targets (SNMP `SNMP_CHUNK` at a time)."""
        targets = self.targets(kind, segment).targets
        size = SNMP_CHUNK if kind == "snmp" else len(targets)
        return await in_chunks(self.probe(kind, segment), targets, deadline, size)

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
