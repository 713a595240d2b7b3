"""One record per platform holding every fact govnet knows of it (STYLE.md: vendor differences
are data): how a session drives its CLI (``CliRecord``), its configuration language
(``Dialect``) and the names govnet's templates use on it (``Naming``). Each vendor's record is
one module, ``govnet/platforms/<platform>.py``; ``govnet.platforms`` is the registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from govnet.platforms.cli import CliRecord
from govnet.platforms.dialect import Dialect


@dataclass(frozen=True)
class Naming:
    """Names the templates and the renderer use on this platform."""

    vlan_interface: str
    """The VLAN interface's name before its number (``Vlanif``101, ``Vlan``101)."""
    loopback: str
    acls: Mapping[str, str | int]
    """govnet's own ACLs by role (``mgmt``, ``snmp``, ``party``): numbers 2990-2999 / 3990-3999
    and names ``GOVNET-*`` are reserved for govnet."""


@dataclass(frozen=True)
class Platform:
    """Everything govnet knows of one platform."""

    name: str
    cli: CliRecord
    dialect: Dialect
    naming: Naming

    @property
    def comment(self) -> str:
        """The comment mark govnet writes in rendered configs (part markers, separators)."""
        return self.dialect.comments[0]
