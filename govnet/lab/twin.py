"""The lab twin's lifecycle: up, status, fault, heal, down, from a site inventory.

``up`` chooses the units (`site`), builds the namespaces (`netns`), starts one snmpd per unit
(`snmpd`), one SSH simulator process for every device (`devsim`, listening inside each unit's
namespace) and one process for the units' TCP services, then writes what the rest of govnet
uses unchanged: the lab's inventory, its secrets (0600 files the inventory refers to), an
OpenSSH known_hosts file with every device's host key, and a daemon config.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from govnet.errors import GovnetError, LabError
from govnet.inventory.loader import load
from govnet.inventory.models import Inventory
from govnet.lab import kfaults, netns, procs, snmpd, state
from govnet.lab.devsim import clear_faults, parse_fault, set_fault
from govnet.lab.devsim.timing import check_timing
from govnet.lab.site import (
    DEFAULT_UNITS,
    LAB_SNMP_USER,
    LAB_USER,
    LabUnit,
    choose_units,
    device_name,
    lab_inventory,
    lab_units,
    legacy_ssh_units,
    quirk_units,
)
from govnet.lab.system import require_privileges
from govnet.lab.topology import LabTopology, build_tree
from govnet.osutil.files import write_atomically
from govnet.resources import data_dir

TWIN_FILE = "twin.json"
TRAP_PORT = 1162
SECRET_NAMES = ("ssh-password", "enable-secret", "snmp-community", "snmp-auth", "snmp-priv")
KERNEL_KINDS = kfaults.KINDS  # link, device, loss, latency, isolation leak, and device-health kinds
DEVICE_KINDS = ("ssh-drop", "reject", "auth-fail", "slow", "ask")
READY_TIMEOUT = 60.0
DEVICES_PER_PROCESS = 100


@dataclass(frozen=True)
class Twin:
    """A lab that is (or was) up: its record and its topology."""

    name: str
    sdir: Path
    record: dict[str, Any]
    topology: LabTopology

    def node_of(self, ident: str) -> tuple[str, str]:
        """(lab node, device name) of a unit or node id of the lab inventory."""
        for entry in [*self.record["units"], *self.record["nodes"]]:
            if ident in (entry["id"], entry["node"]):
                return entry["node"], entry["device"]
        known = ", ".join(e["id"] for e in self.record["units"][:5])
        example = f"e.g. {known}; " if known else ""
        raise LabError(f"lab {self.name} has no unit or node '{ident}' ({example}see govnet lab status)")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, text)


def _secrets(sdir: Path) -> dict[str, str]:
    """The lab's secrets, generated once per lab and kept (0600) so the inventory's file: refs resolve."""
    folder = sdir / "secrets"
    values = {}
    for name in SECRET_NAMES:
        path = folder / name
        if not path.exists():
            _write_private(path, secrets.token_hex(12))
        values[name] = path.read_text().strip()
    return values


def load_twin(name: str, state_root: Path | None = None) -> Twin:
    sdir = state.state_dir(name, state_root)
    try:
        record = json.loads((sdir / TWIN_FILE).read_text())
    except FileNotFoundError:
        raise LabError(f"lab {name} is not up (run govnet lab up)") from None
    rows = [(u["node"], u["agg_node"], u["segments"]) for u in record["units"]]
    return Twin(name, sdir, record, build_tree(name, rows, network=record["network"]))


def up(
    inventory_path: Path,
    *,
    units: int = DEFAULT_UNITS,
    name: str = "luohe",
    network: str = "198.18.0.0/15",
    state_root: Path | None = None,
    timing: str | None = None,
) -> dict[str, Any]:
    """Build (or repair) the lab; idempotent for the same size, refused for another size.

    ``timing`` names a devsim timing profile every device plays (``None``: instant)."""
    check_timing(timing, where="--timing")
    require_privileges()
    sdir = state.state_dir(name, state_root)
    previous = sdir / TWIN_FILE
    if previous.exists():
        old = json.loads(previous.read_text())
        if len(old["units"]) != units or old["source"] != str(inventory_path.resolve()):
            raise LabError(
                f"lab {name} is up with {len(old['units'])} units from {old['source']}; run govnet lab down first"
            )
        if old.get("timing") != timing:
            raise LabError(
                f"lab {name} is up with timing {old.get('timing') or 'none'}; run govnet lab down first"
            )
    inv = load(inventory_path).inventory
    chosen = lab_units(inv, choose_units(inv, units))
    topology = build_tree(name, [(u.node, u.agg_node, u.segments) for u in chosen], network=network)
    inventory = lab_inventory(inv, chosen, topology, sdir / "secrets")
    record = _record(name, inventory_path, inv, chosen, topology, inventory)
    record["timing"] = timing
    sdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(
        sdir / "inventory.yml",
        "# The lab twin's inventory, written by govnet lab up.\n"
        + yaml.safe_dump(inventory, allow_unicode=True, sort_keys=False, width=140),
    )
    try:
        load(sdir / "inventory.yml")
    except GovnetError as exc:  # our own output must validate: a bug if not
        raise LabError(f"the lab inventory does not validate (a bug): {next(iter(exc.lines()))}") from None
    try:
        _build(name, sdir, topology, inventory, record, state_root)
    except GovnetError as exc:
        if not (sdir / "lab.json").exists():
            raise
        raise LabError(
            f"{next(iter(exc.lines()))} (the lab is partly up; govnet lab down removes it)"
        ) from None
    return status(name, state_root)


def _record(
    name: str,
    inventory_path: Path,
    inv: Inventory,
    chosen: list[LabUnit],
    topology: LabTopology,
    inventory: dict[str, Any],
) -> dict[str, Any]:
    """What later commands need to find their way in the lab (twin.json)."""
    aggs = {u.agg: u.agg_node for u in chosen}
    legacy = legacy_ssh_units(chosen)
    quirks = quirk_units(chosen)
    return {
        "name": name,
        "source": str(inventory_path.resolve()),
        "network": str(topology.network),
        "units": [
            {
                "id": u.id,
                "node": u.node,
                "agg": u.agg,
                "agg_node": u.agg_node,
                "device": device_name(inv, u.unit),
                "platform": u.unit.device.platform,
                "segments": list(u.segments),
                "host": str(topology.node(u.node).mgmt),
                "ssh": "legacy" if u.id in legacy else "modern",
                "quirks": list(quirks.get(u.id, ())),
            }
            for u in chosen
        ],
        "nodes": [
            {
                "id": n["id"],
                "node": aggs.get(n["id"], "core"),
                "device": n["devices"][0]["name"],
                "platform": n["devices"][0]["platform"],
                "host": n["devices"][0]["host"],
            }
            for n in inventory["nodes"]
        ],
    }


def _build(
    name: str,
    sdir: Path,
    topology: LabTopology,
    inventory: dict[str, Any],
    record: dict[str, Any],
    state_root: Path | None,
) -> None:
    netns.up(topology, state_root)
    values = _secrets(sdir)
    trap_host = str(topology.host_link.host_addr.ip)
    settings = snmpd.AgentSettings(
        snmpd.SnmpSecrets(values["snmp-community"], LAB_SNMP_USER, values["snmp-auth"], values["snmp-priv"]),
        trap_receiver=(trap_host, TRAP_PORT),
        location=f"govnet lab {name}",
        sys_names={u["node"]: u["device"] for u in record["units"]},
        platforms={u["node"]: u["platform"] for u in record["units"]},
        link_poll_seconds=2,
    )
    running = [u["node"] for u in record["units"] if not _faulted(sdir, u["node"], "device-down")]
    snmpd.start_all(topology, settings, state_root, running)
    _start_devices(name, sdir, topology, record, values)
    _start_services(name, sdir, topology, inventory, record)
    _write_daemon_config(sdir, topology, record)
    record["trap_receiver"] = f"{trap_host}:{TRAP_PORT}"
    _write_private(sdir / TWIN_FILE, json.dumps(record, indent=2, ensure_ascii=False))


def _faulted(sdir: Path, node: str, kind: str) -> bool:
    return any(f["node"] == node and str(f["kind"]).split("=")[0] == kind for f in state.read_faults(sdir))


def _start_devices(
    name: str, sdir: Path, topology: LabTopology, record: dict[str, Any], values: dict[str, str]
) -> None:
    devices = sdir / "devices"
    devices.mkdir(parents=True, exist_ok=True, mode=0o700)
    specs = [
        {
            "name": entry["device"],
            "platform": entry["platform"],
            "address": entry["host"],
            "port": 22,
            "username": LAB_USER,
            "password": values["ssh-password"],
            "enable_secret": values["enable-secret"],
            "state_dir": str(devices),
            "host_key_path": str(devices / "keys" / f"{entry['device']}.key"),
            "netns": topology.netns(entry["node"]),
            "banner": f"Authorized access only ({entry['id']})",
            "timing": record.get("timing"),
            "ssh": entry.get("ssh", "modern"),  # SSH algorithm profile (site.legacy_ssh_units)
            "quirks": entry.get("quirks", []),  # real-device behaviours (site.quirk_units)
        }
        for entry in [*record["nodes"], *record["units"]]
    ]
    # One asyncio process serves a device's SSH on one core: a big lab is split over several
    # (one per core, at most one per DEVICES_PER_PROCESS devices) so a rollout at concurrency
    # 50 is not bound by one simulator process. Each writes its own ready and known_hosts file.
    shares = max(1, min(os.cpu_count() or 1, -(-len(specs) // DEVICES_PER_PROCESS)))
    names = ["devsim"] + [f"devsim-{k}" for k in range(2, shares + 1)]
    for index, process in enumerate(names):
        share = specs[index::shares]
        spec = devices / f"{process}.json"
        _write_private(spec, json.dumps({"devices": share}, indent=1))
        ready = devices / f"{process}.ready.json"
        if procs.process_pid(process, sdir) is None:
            ready.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "govnet.lab.devsim",
            "--spec",
            str(spec),
            "--ready-file",
            str(ready),
            "--known-hosts",
            str(devices / f"{process}.known_hosts"),
        ]
        procs.start_process(process, topology.netns(topology.prober), argv, sdir)
    for process in names:
        _wait_for(devices / f"{process}.ready.json", process, sdir)
    hosts = "".join((devices / f"{process}.known_hosts").read_text() for process in names)
    (sdir / "known_hosts").write_text(hosts)


def _start_services(
    name: str, sdir: Path, topology: LabTopology, inventory: dict[str, Any], record: dict[str, Any]
) -> None:
    nodes = {u["id"]: u["node"] for u in record["units"]}
    listeners = []
    for unit in inventory["units"]:
        for service in unit.get("services", []):
            segment = service["segment"]
            node = topology.node(nodes[unit["id"]])
            listeners.append(
                {
                    "netns": topology.netns(node.name, segment),
                    "address": str(node.address(segment)),
                    "port": service["port"],
                }
            )
    if not listeners:
        return
    spec = sdir / "services.json"
    _write_private(spec, json.dumps(listeners))
    procs.start_process(
        "services",
        topology.netns(topology.prober),
        [sys.executable, "-m", "govnet.lab.services", "--spec", str(spec)],
        sdir,
    )


def _wait_for(path: Path, what: str, sdir: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not path.exists():
        if procs.process_pid(what, sdir) is None:
            log = procs.log_path(sdir, what)
            tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
            raise LabError(
                f"{what} exited before it was ready: {tail[0] if tail else 'no output'} (log: {log})"
            )
        if time.monotonic() > deadline:
            raise LabError(
                f"{what} not ready after {READY_TIMEOUT:.0f} s (log: {procs.log_path(sdir, what)})"
            )
        time.sleep(0.05)


def _write_daemon_config(sdir: Path, topology: LabTopology, record: dict[str, Any]) -> None:
    """A daemon config that watches this lab at lab speed (intervals of seconds, not minutes)."""
    probes: dict[str, Any] = {
        "icmp": {"interval": 5, "timeout": 2.0, "count": 3},
        "snmp": {"interval": 10, "timeout": 2.0, "retries": 1},
        "tcp": {"interval": 10, "timeout": 2.0},
        # device health of every unit's uplink (each agent serves its platform's tables: healthsim)
        "health": {"interval": 10, "timeout": 2.0, "retries": 1},
    }
    if "party" in topology.node("core").vrfs:
        probes["isolation"] = {
            "interval": 10,
            "timeout": 2.0,
            "vantages": {
                "party-noc": {
                    "source": str(topology.prober_address("party")),
                    "netns": topology.netns(topology.prober),
                }
            },
        }
    config = {
        "inventory": str(sdir / "inventory.yml"),
        "allowed_networks": [str(topology.network)],
        "listen": "127.0.0.1:9430",
        "state": str(sdir / "daemon"),
        "known_hosts": str(sdir / "known_hosts"),
        "down_after": 2,
        "traps": {
            "listen": f"{topology.host_link.host_addr.ip}:{TRAP_PORT}",
            "communities": [f"file:{sdir / 'secrets' / 'snmp-community'}"],
        },
        "probes": probes,
    }
    templates = data_dir("configs")
    if templates.is_dir():  # the drift check at lab speed
        config["compliance"] = {
            "interval": 300,
            "start_delay": 5,
            "concurrency": 4,
            "templates": str(templates),
        }
    _write_private(
        sdir / "daemon.yml",
        "# Written by govnet lab up: a daemon watching the lab twin.\n"
        + yaml.safe_dump(config, sort_keys=False),
    )


class _DeviceHook:
    """Lets kernel faults stop and start a device's SSH simulator (device-down)."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin

    def stop(self, node: str) -> None:
        set_fault(self.twin.sdir / "devices", self.twin.node_of(node)[1], "device-down")

    def start(self, node: str) -> None:
        clear_faults(self.twin.sdir / "devices", self.twin.node_of(node)[1], "device-down")


def check_kind(kind: str) -> str:
    """The fault's base kind, once its whole spec is valid; nothing about the lab is touched."""
    base = kind.split("=", 1)[0]
    if base in KERNEL_KINDS:
        kfaults.parse_kind(kind)
    elif base in DEVICE_KINDS:
        parse_fault(kind)
    else:
        raise LabError(
            f"unknown fault kind '{kind}' (kinds: {', '.join(KERNEL_KINDS + DEVICE_KINDS)}; loss=PCT, latency=MS, reject=PATTERN, ask=PATTERN, slow=MS)"
        )
    return base


def fault(name: str, ident: str, kind: str, state_root: Path | None = None) -> dict[str, Any]:
    base = check_kind(kind)  # a bad spec is refused before the lab (or root) is needed
    require_privileges()
    twin = load_twin(name, state_root)
    node, device = twin.node_of(ident)
    if base in KERNEL_KINDS:
        kfaults.apply(twin.topology, node, kind, state_root, hooks=[_DeviceHook(twin)])
    else:
        set_fault(twin.sdir / "devices", device, kind)
        _record_device_fault(twin, node, kind)
    return status(name, state_root)


def _record_device_fault(twin: Twin, node: str, kind: str) -> None:
    path = twin.sdir / "device-faults.json"
    faults = json.loads(path.read_text()) if path.exists() else []
    faults = [
        f
        for f in faults
        if not (f["node"] == node and f["kind"].split("=")[0] == kind.split("=", maxsplit=1)[0])
    ]
    faults.append({"node": node, "kind": kind})
    _write_private(path, json.dumps(faults))


def heal(name: str, ident: str, state_root: Path | None = None) -> list[str]:
    require_privileges()
    twin = load_twin(name, state_root)
    node, device = twin.node_of(ident)
    healed = kfaults.heal(twin.topology, node, state_root, hooks=[_DeviceHook(twin)])
    path = twin.sdir / "device-faults.json"
    faults = json.loads(path.read_text()) if path.exists() else []
    healed += [f["kind"] for f in faults if f["node"] == node]
    _write_private(path, json.dumps([f for f in faults if f["node"] != node]))
    clear_faults(twin.sdir / "devices", device)
    return healed


def status(name: str, state_root: Path | None = None) -> dict[str, Any]:
    """What `govnet lab status --json` prints (DESIGN.md shape plus details)."""
    sdir = state.state_dir(name, state_root)
    kernel = netns.status(name, state_root)
    try:
        twin = load_twin(name, state_root)
    except LabError:
        return {
            "lab": name,
            "up": False,
            "inventory": None,
            "daemon_config": None,
            "units": [],
            "faults": [],
            "namespaces": len(kernel.namespaces),
        }
    by_node = {e["node"]: e["id"] for e in [*twin.record["units"], *twin.record["nodes"]]}
    device_faults = (
        json.loads((sdir / "device-faults.json").read_text())
        if (sdir / "device-faults.json").exists()
        else []
    )
    faults = [
        {"unit": by_node.get(str(f["node"]), str(f["node"])), "kind": str(f["kind"])}
        for f in [*kernel.faults, *device_faults]
    ]
    return {
        "lab": name,
        "up": kernel.stage == "up",
        "inventory": str(sdir / "inventory.yml"),
        "daemon_config": str(sdir / "daemon.yml"),
        "known_hosts": str(sdir / "known_hosts"),
        "state": str(sdir),
        "network": twin.record["network"],
        "trap_receiver": twin.record.get("trap_receiver"),
        "timing": twin.record.get("timing"),
        "units": [
            {
                "id": u["id"],
                "host": u["host"],
                "platform": u["platform"],
                "segments": u["segments"],
                "node": u["node"],
                "quirks": u.get("quirks", []),
            }
            for u in twin.record["units"]
        ],
        "nodes": [
            {"id": n["id"], "host": n["host"], "platform": n["platform"]} for n in twin.record["nodes"]
        ],
        "faults": faults,
        "namespaces": len(kernel.namespaces),
        "processes": kernel.processes,
    }


def down(name: str, state_root: Path | None = None) -> netns.DownReport:
    require_privileges()
    report = netns.down(name, state_root)
    sdir = state.state_dir(name, state_root)
    for leftover in (TWIN_FILE, "device-faults.json"):
        (sdir / leftover).unlink(missing_ok=True)
    return report
