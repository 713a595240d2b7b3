"""Secret references: ``env:`` and ``file:`` (private files only), caching, masking."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from govnet.errors import ConfigError
from govnet.secrets import SecretResolver, mask_logs
from tests.helpers import need

VALUE = "Zq-7731-secret"


def secret_file(path: Path, text: str = VALUE + "\n", mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_T_PW", VALUE)
    assert SecretResolver().resolve("env:GOVNET_T_PW") == VALUE


@pytest.mark.parametrize("value", [None, ""])
def test_unset_or_empty_env_is_refused(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("GOVNET_T_MISSING", raising=False)
    else:
        monkeypatch.setenv("GOVNET_T_MISSING", value)
    with pytest.raises(ConfigError, match=r"^secret env:GOVNET_T_MISSING is not set$"):
        SecretResolver().resolve("env:GOVNET_T_MISSING")


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_private_file_reference(tmp_path: Path, mode: int) -> None:
    path = secret_file(tmp_path / "pw", mode=mode)
    assert SecretResolver().resolve(f"file:{path}") == VALUE  # trailing newline stripped


def test_relative_file_reference_uses_the_base(tmp_path: Path) -> None:
    secret_file(tmp_path / "pw", VALUE)
    assert SecretResolver(base=tmp_path).resolve("file:pw") == VALUE


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o700])
def test_loose_modes_are_refused_with_the_mode(tmp_path: Path, mode: int) -> None:
    path = secret_file(tmp_path / "pw", mode=mode)
    with pytest.raises(ConfigError) as caught:
        SecretResolver().resolve(f"file:{path}")
    assert str(caught.value) == (
        f"secret file {path} has mode {mode:04o}; it must be 0600 or 0400 (chmod 600 {path})"
    )
    assert VALUE not in str(caught.value)


def test_missing_file_and_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^secret file .*/nope does not exist$"):
        SecretResolver().resolve(f"file:{tmp_path / 'nope'}")
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    with pytest.raises(ConfigError, match=r"is not a regular file$"):
        SecretResolver().resolve(f"file:{folder}")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = secret_file(tmp_path / "pw", "\n")
    with pytest.raises(ConfigError, match=r"is empty$"):
        SecretResolver().resolve(f"file:{path}")


@pytest.mark.lab
def test_file_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    need(os.geteuid() == 0, "needs root to hand a file to another user")
    path = secret_file(tmp_path / "pw")
    os.chown(path, 65534, 65534)
    with pytest.raises(ConfigError, match=r"is owned by uid 65534; it must be owned by you"):
        SecretResolver().resolve(f"file:{path}")


def test_a_plaintext_value_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        SecretResolver().resolve("hunter2-plain")
    assert "hunter2" not in str(caught.value)


def test_values_are_cached_for_the_run(tmp_path: Path) -> None:
    path = secret_file(tmp_path / "pw")
    resolver = SecretResolver()
    assert resolver.resolve(f"file:{path}") == VALUE
    path.unlink()
    assert resolver.resolve(f"file:{path}") == VALUE


def test_mask_replaces_every_value_handed_out(tmp_path: Path) -> None:
    resolver = SecretResolver(environ={"A": "abc", "B": "abcdef"})
    assert resolver.mask("abc abcdef") == "abc abcdef"  # nothing handed out yet
    resolver.resolve("env:A")
    resolver.resolve("env:B")
    assert resolver.mask("x abcdef y abc z") == "x **** y **** z"  # longest first, whole
    assert "abc" not in repr(resolver)
    assert resolver.values() == {"abc", "abcdef"}


def test_mask_logs_masks_records_of_the_named_loggers(caplog: pytest.LogCaptureFixture) -> None:
    resolver = SecretResolver(environ={"PW": VALUE})
    resolver.resolve("env:PW")
    caplog.set_level(logging.DEBUG)
    with mask_logs(resolver, ["govnet.test.masked"]):
        logging.getLogger("govnet.test.masked").debug("sent %s", VALUE)
    logging.getLogger("govnet.test.masked").debug("after %s", VALUE)
    # only this logger's records: another module's in-process simulator may log "Task was
    # destroyed" from the garbage collector at any moment (asyncio's logger)
    mine = [r.getMessage() for r in caplog.records if r.name == "govnet.test.masked"]
    assert mine == ["sent ****", f"after {VALUE}"]
