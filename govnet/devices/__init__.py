"""Device sessions: one netmiko-backed session class driven by the platform records
(``govnet.platforms``: prompts, dialogues, error forms are data).

``open_session(device, resolver=…, known_hosts=…)`` logs in with strict host keys and returns a
``Session`` (``running_config``, ``push``, ``save``, ``send``, ``close``); every failure is a
``DeviceError``, the push failures ``SessionError`` subclasses saying how far the push got.
"""

from govnet.devices.errors import CommandRejected, ConnectionLost, DeviceTimeout, SessionError
from govnet.devices.session import Session, Timeouts, open_session

__all__ = [
    "CommandRejected",
    "ConnectionLost",
    "DeviceTimeout",
    "Session",
    "SessionError",
    "Timeouts",
    "open_session",
]
