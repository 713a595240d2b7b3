"""Simulated network devices answering real SSH, one personality per platform.

``serve(specs)`` runs many devices in one asyncio process (one listener per device), each with
a real running configuration that pushed commands change, host keys for strict checking and
faults injected at runtime through ``<state>/faults.json``. See ``python -m govnet.lab.devsim``
for the process the lab spawns per network namespace.
"""

from govnet.lab.devsim.device import DeviceSpec, SimDevice, check_address
from govnet.lab.devsim.faults import Fault, clear_faults, parse_fault, read_faults, set_fault
from govnet.lab.devsim.platforms import PLATFORMS, get_platform
from govnet.lab.devsim.server import (
    DevsimHandle,
    ensure_host_key,
    known_hosts_line,
    serve,
    write_known_hosts,
)
from govnet.lab.devsim.thread import BackgroundDevsim

__all__ = [
    "PLATFORMS",
    "BackgroundDevsim",
    "DeviceSpec",
    "DevsimHandle",
    "Fault",
    "SimDevice",
    "check_address",
    "clear_faults",
    "ensure_host_key",
    "get_platform",
    "known_hosts_line",
    "parse_fault",
    "read_faults",
    "serve",
    "set_fault",
    "write_known_hosts",
]
