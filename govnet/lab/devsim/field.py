"""What real devices ask and answer that a tidy simulator would not: the field, as data.

Each entry reproduces a behaviour recorded in public (the conformance table,
``govnet/devices/conformance.md``, names the record): questions a configuration line asks,
questions at login and on save, the two-stage prompts of VRP8, error forms with and without a
``%``, and a finite vty input buffer. Behaviours every device of a platform shows are always
on; those only some devices show (an expired password, a slave board, an image upgrade) are
switched on per device by a quirk name (``DeviceSpec.quirks``, registry in ``quirks.py``).
The shell (``shell.py``) reads this record; nothing here touches a connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["yn", "confirm", "yesno", "key"]
"""How a question is answered: ``yn`` y/n (VRP refuses a bare Enter), ``confirm`` Enter or y
(IOS ``[confirm]``), ``yesno`` the words yes/no, ``key`` y or Enter continues, n hangs up."""


@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind = "yn"


@dataclass(frozen=True)
class FieldBehaviours:
    """One platform's field behaviours."""

    line_questions: tuple[tuple[re.Pattern[str], Question], ...] = ()
    """Configuration lines that ask before they take effect (always)."""
    login: dict[str, Question] = field(default_factory=dict)
    """Quirk → the question asked after login, before the first prompt."""
    save: dict[str, Question] = field(default_factory=dict)
    """Quirk → a question the save asks after the platform's own dialogue."""
    semantic_errors: tuple[tuple[re.Pattern[str], str, bool], ...] = ()
    """(line, message, caret): lines the device refuses for what they mean, not their syntax;
    with ``caret`` the message comes under a ``^`` marker line."""
    refuse_enter: str = ""
    """What a ``yn`` question prints when answered with a bare Enter (then asks again)."""
    input_buffer: int = 65536
    """Bytes of input a vty takes ahead of what it has processed; the rest of a write is lost."""


SMALL_INPUT_BUFFER = 512
"""The ``small-input-buffer`` quirk's vty buffer, in bytes (netmiko #1058: small device input
buffers lost config lines sent ahead of the echo)."""

QUIRKS: dict[str, str] = {
    "login-password-change": "asks at login to change an expired or initial password (VRP)",
    "login-security-risk": "asks at login to re-save a configuration file with weak ciphers (VRP)",
    "login-press-key": "a banner waits for 'Press Y or ENTER to continue' at login (Comware)",
    "save-slave": "save asks again for the slave board's flash, in lower-case [y/n] (VRP)",
    "nvram-overwrite": "write memory asks to overwrite NVRAM written by another image (IOS)",
    "vrp8": "two-stage configuration prompts [~NAME] / [*NAME] (Huawei VRP8)",
    "small-input-buffer": f"the vty keeps only {SMALL_INPUT_BUFFER} bytes typed ahead; the rest of a write is lost",
}

_VRP_ENTER = "Error: Please choose 'YES' or 'NO' first before pressing 'Enter'. [Y/N]:"

FIELD: dict[str, FieldBehaviours] = {
    "huawei_vrp": FieldBehaviours(
        line_questions=(
            (
                re.compile(r"^undo local-user \S+$"),
                Question("Warning: This operation will delete the user and log it out. Continue? [Y/N]:"),
            ),
            (
                re.compile(r"^undo ssh user "),
                Question("Warning: The SSH user will be deleted. Continue? [Y/N]:"),
            ),
            (
                re.compile(r"^rsa local-key-pair "),
                Question("Warning: The existing key pair will be replaced. Continue? [Y/N]:"),
            ),
        ),
        login={
            "login-security-risk": Question(
                "Warning: There are security risks in the configuration file. Save the file now? [Y/N]:"
            ),
            "login-password-change": Question(
                "Warning: The initial password poses security risks.\n"
                "The password needs to be changed. Change now? [Y/N]:"
            ),
        },
        save={
            "save-slave": Question(
                "Warning: Are you sure to save the configuration to slave#flash:/vrpcfg.zip? [y/n]:"
            ),
        },
        semantic_errors=(
            (re.compile(r"^rule \d+ permit source 192\.0\.2\.0 "), "Error: The rule already exists.", False),
            (re.compile(r"^vlan 4095$"), "Error: Wrong parameter found at '^' position.", True),
        ),
        refuse_enter=_VRP_ENTER,
    ),
    "h3c_comware": FieldBehaviours(
        line_questions=(
            (
                re.compile(r"^undo local-user \S+(?: class \S+)?$"),
                Question("This operation will delete the local user. Continue? [Y/N]:"),
            ),
        ),
        login={
            "login-press-key": Question("Press Y or ENTER to continue, N to exit.", "key"),
        },
        semantic_errors=(
            (re.compile(r"^vlan 4095$"), "% Wrong parameter found at '^' position.", True),
            (re.compile(r"^ip address 192\.0\.2\.0 "), "The IP address is invalid.", True),
        ),
    ),
    "cisco_ios": FieldBehaviours(
        line_questions=(
            (
                re.compile(r"^no username \S+"),
                Question(
                    "This operation will remove all username related configurations with same name."
                    "Do you want to continue? [confirm]",
                    "confirm",
                ),
            ),
            (
                re.compile(r"^crypto key (?:generate|zeroize) rsa\b"),
                Question(
                    "% You already have RSA keys defined.\n% They will be replaced.\n\n"
                    "Do you really want to replace them? [yes/no]: ",
                    "yesno",
                ),
            ),
        ),
        save={
            "nvram-overwrite": Question(
                "Warning: Attempting to overwrite an NVRAM configuration previously written\n"
                "by a different version of the system image.\n"
                "Overwrite the previous NVRAM configuration?[confirm]",
                "confirm",
            ),
        },
        semantic_errors=(
            (
                re.compile(r"^ip address 192\.0\.2\.0 255\.255\.255\.248$"),
                "Bad mask /29 for address 192.0.2.0",
                False,
            ),
            (
                re.compile(r"^switchport private-vlan mapping "),
                'Command rejected: An interface must be configured to the "Access" or "Trunk" modes.',
                False,
            ),
            (re.compile(r"^ip address 192\.0\.2\.1 "), "% 192.0.2.0 overlaps with Vlan1", False),
            (re.compile(r"^boot system tftp:"), "%Error opening tftp://192.0.2.9/x.bin (Timed out)", False),
            (re.compile(r"^vlan 4095$"), "% Bad VLAN list - character #5 (EOL) delimits a VLAN number", True),
        ),
    ),
}

NO_FIELD = FieldBehaviours()


def field_of(platform: str) -> FieldBehaviours:
    return FIELD.get(platform, NO_FIELD)


def accepts(question: Question, answer: str) -> bool | None:
    """Whether ``answer`` says yes to ``question``; ``None``: not an answer, ask again.

    >>> accepts(Question("? [Y/N]:"), "")
    >>> accepts(Question("[confirm]", "confirm"), "")
    True
    >>> accepts(Question("[yes/no]:", "yesno"), "y")
    >>> accepts(Question("[yes/no]:", "yesno"), "yes")
    True
    """
    text = answer.strip().lower()
    if question.kind == "confirm":
        return text in ("", "y", "yes")
    if question.kind == "key":
        return text != "n"
    if question.kind == "yesno":
        return True if text == "yes" else False if text == "no" else None
    if not text:
        return None
    return text.startswith("y")
