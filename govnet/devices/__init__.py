"""Device sessions: platform records (data) and one netmiko-backed session class.

``open_session(device, resolver=…, known_hosts=…)`` logs in with strict host keys and returns a
``Session`` (``running_config``, ``push``, ``save``, ``send``, ``close``); every failure is a
``DeviceError``, the push failures ``SessionError`` subclasses saying how far the push got.
"""

from govnet.devices.errors import CommandRejected, ConnectionLost, DeviceTimeout, SessionError
from govnet.devices.platforms import PLATFORMS, Dialogue, PlatformRecord, get_platform
from govnet.devices.session import Session, Timeouts, open_session

__all__ = [
    "PLATFORMS",
    "CommandRejected",
    "ConnectionLost",
    "DeviceTimeout",
    "Dialogue",
    "PlatformRecord",
    "Session",
    "SessionError",
    "Timeouts",
    "get_platform",
    "open_session",
]
