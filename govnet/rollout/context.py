"""What every rollout command needs: the inventory, templates, state, host keys and secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from govnet.devices.session import Session, Timeouts, open_session
from govnet.inventory.models import Device, Inventory, Node, Unit
from govnet.platforms import platform
from govnet.render import Rendered, render_device
from govnet.render.engine import environment
from govnet.secrets import SecretResolver
from govnet.settings import settings


@dataclass
class Context:
    inventory_path: Path
    inventory: Inventory
    templates: Path
    state_dir: Path
    known_hosts: Path
    resolver: SecretResolver = field(default_factory=SecretResolver)
    timeouts: Timeouts = field(default_factory=Timeouts)
    rendered: dict[tuple[str, str], Rendered] = field(default_factory=dict, repr=False)
    """Intended configs rendered in this command (a plan checks them all first, then uses them)."""

    def compile_templates(self) -> None:
        """Compile every template now: worker processes forked afterwards inherit them instead
        of each compiling its own (Jinja compiles a template at its first use per process)."""
        env = environment(self.templates)
        for name in env.list_templates(extensions=["j2"]):
            env.get_template(name)

    def session(self, device: Device) -> Session:
        return open_session(
            device, resolver=self.resolver, known_hosts=self.known_hosts, timeouts=self.timeouts
        )

    def render(self, element: Unit | Node, device: Device) -> Rendered:
        key = (element.id, device.name)
        found = self.rendered.get(key)
        if found is None:
            found = self.rendered[key] = render_device(self.inventory, element, device, self.templates)
        return found

    def element(self, ident: str) -> Unit | Node:
        found = self.inventory.element(ident)
        if found is None:
            raise KeyError(ident)
        return found

    def device(self, element: Unit | Node, name: str) -> Device:
        return next(d for d in element.devices if d.name == name)


def default_known_hosts(inventory_path: Path) -> Path:
    """``$GOVNET_KNOWN_HOSTS``, else a ``known_hosts`` beside the inventory (the lab writes one
    there), else the user's own ``~/.ssh/known_hosts``."""
    known_hosts = settings().known_hosts
    if known_hosts is not None:
        return known_hosts
    folder = inventory_path if inventory_path.is_dir() else inventory_path.parent
    if (folder / "known_hosts").exists():
        return folder / "known_hosts"
    return Path.home() / ".ssh" / "known_hosts"


def scope_kinds(segment: str) -> tuple[str, ...]:
    """The parts of a device's intended config a rollout of ``segment`` manages."""
    return ("baseline", segment, "uplink") if segment == "party" else ("baseline", segment)


def scoped_text(rendered: Rendered, segment: str) -> str:
    """The intended config restricted to the parts this segment's rollout owns (markers kept)."""
    kinds = scope_kinds(segment)
    comment = platform(rendered.platform).comment
    return "".join(
        f"{comment} govnet part {p.kind} {p.template}\n"
        + (p.text if p.text.endswith("\n") else p.text + "\n")
        for p in rendered.parts
        if p.kind in kinds
    )
