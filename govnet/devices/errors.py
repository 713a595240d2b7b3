"""Failures of a device operation that stopped part-way, saying how far it got.

All are ``DeviceError``s (the CLI shows them as one line); the attributes let the rollout
record what the device took before it failed, so a restore knows what to undo.
"""

from __future__ import annotations

from collections.abc import Sequence

from govnet.errors import DeviceError


class SessionError(DeviceError):
    """A device operation failed part-way. ``accepted`` are the pushed lines the device had
    answered without error, ``command`` the line it failed on, ``device_message`` what the
    device said, ``reason`` the message without the device prefix; all masked."""

    def __init__(
        self,
        message: str,
        *,
        device: str,
        command: str | None = None,
        device_message: str | None = None,
        accepted: Sequence[str] = (),
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = message if reason is None else reason
        self.device = device
        self.command = command
        self.device_message = device_message
        self.accepted = tuple(accepted)


class CommandRejected(SessionError):
    """The device answered a line with one of the platform's error messages."""


class ConnectionLost(SessionError):
    """The connection closed while a command was outstanding."""


class DeviceTimeout(SessionError):
    """The device did not answer within the configured timeout."""


class UnexpectedQuestion(SessionError):
    """The device asked a question no dialogue of its platform record answers; the session
    is closed (the device still waits for an answer) and ``device_message`` quotes it."""
