"""Timing profiles (``govnet.lab.devsim.timing``): names checked before anything binds, and a
device given a profile really takes its time, seen through govnet's own session over real SSH.

Only lower bounds are asserted: a busy machine makes everything slower, never faster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from govnet.devices import open_session
from govnet.errors import LabError
from govnet.inventory.models import Device
from govnet.lab.devsim import BackgroundDevsim, DeviceSpec, write_known_hosts
from govnet.lab.devsim.platforms import PLATFORMS
from govnet.lab.devsim.server import validate_specs
from govnet.lab.devsim.timing import PROFILES, Delays, Pacing, Timing, check_timing
from govnet.secrets import SecretResolver
from tests.devices.devlab import ENABLE, PASSWORD, lab_secrets

SHORT = {"huawei_vrp": "hw", "h3c_comware": "h3c", "cisco_ios": "ios"}
TEST = Delays(login=0.6, answer=0.05, show=0.2, show_per_kb=0.01, save=0.8)
"""The ``test-slow`` profile: every delay big enough to measure, small enough to wait for."""
LINES = {
    "huawei_vrp": ["interface GigabitEthernet0/0/2", " description paced", "quit"],
    "h3c_comware": ["interface GigabitEthernet1/0/2", " description paced", "quit"],
    "cisco_ios": ["interface GigabitEthernet0/1", " description paced", "exit"],
}


def spec(name: str, platform: str, state: Path, timing: str | None) -> DeviceSpec:
    return DeviceSpec(
        name=name,
        platform=platform,
        address="127.0.0.1",
        port=0,
        username="netops",
        password=PASSWORD,
        enable_secret=ENABLE,
        state_dir=state,
        timing=timing,
    )


# ----------------------------------------------------------------------------- profiles


def test_known_profiles_pass_and_none_means_instant() -> None:
    assert check_timing(None) is None
    for name in PROFILES:
        assert check_timing(name) == name
    assert Pacing(None, "cisco_ios").delays is None


def test_an_unknown_profile_is_refused_with_the_known_names() -> None:
    with pytest.raises(LabError) as caught:
        check_timing("feild", where="sw1")
    assert str(next(iter(caught.value.lines()))).endswith(
        "sw1: unknown timing profile 'feild' (known: field, instant, worst)"
    )


def test_validate_specs_refuses_an_unknown_profile_before_binding(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="hw9: unknown timing profile 'slow'"):
        validate_specs([spec("hw9", "huawei_vrp", tmp_path, "slow")])
    validate_specs([spec("hw9", "huawei_vrp", tmp_path, "field")])


def test_spec_json_carries_the_profile_and_rejects_a_non_string(tmp_path: Path) -> None:
    data = spec("ios9", "cisco_ios", tmp_path, "field").to_dict()
    assert DeviceSpec.from_dict(data).timing == "field"
    with pytest.raises(LabError, match="timing must be a string"):
        DeviceSpec.from_dict({**data, "timing": 5})


def test_field_profile_covers_every_platform_with_real_device_figures() -> None:
    field = PROFILES["field"]
    for platform in PLATFORMS:
        delays = field.delays(platform)
        assert delays.login >= 1.0  # ~1 s before the first prompt
        assert 0.01 <= delays.answer < 0.1  # tens of ms per line
        assert delays.save >= 3.0  # seconds to write flash
    assert PROFILES["instant"].delays("cisco_ios") == Delays()


def test_show_grows_with_the_configuration_size() -> None:
    delays = Delays(show=0.3, show_per_kb=0.05)
    assert delays.of("show", 0) == pytest.approx(0.3)
    assert delays.of("show", 10 * 1024) == pytest.approx(0.8)
    assert delays.of("save", 10 * 1024) == 0.0


# ----------------------------------------------------------------------------- over SSH


@pytest.fixture(scope="module")
def paced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BackgroundDevsim, Path]]:
    patch = pytest.MonkeyPatch()
    patch.setitem(PROFILES, "test-slow", Timing("test-slow", {}, TEST))
    state = tmp_path_factory.mktemp("paced")
    specs = [spec(f"{short}-slow", platform, state, "test-slow") for platform, short in SHORT.items()]
    specs.append(spec("hw-field", "huawei_vrp", state, "field"))
    try:
        with BackgroundDevsim(specs) as sim:
            write_known_hosts(state / "known_hosts", sim.specs)
            yield sim, state / "known_hosts"
    finally:
        patch.undo()


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> SecretResolver:
    return lab_secrets(monkeypatch)


def device(sim: BackgroundDevsim, name: str) -> Device:
    bound = sim.spec(name)
    return Device.model_validate(
        {
            "name": name,
            "platform": bound.platform,
            "host": bound.address,
            "port": bound.port,
            "credentials": {
                "username": bound.username,
                "password": "env:GOVNET_TEST_SSH_PASSWORD",
                "enable": "env:GOVNET_TEST_ENABLE",
            },
        }
    )


def timed_rollout(
    sim: BackgroundDevsim, known_hosts: Path, name: str, secrets: SecretResolver
) -> dict[str, float]:
    """Seconds govnet's session spent logging in, reading, pushing and saving (one device)."""
    taken: dict[str, float] = {}
    platform = sim.spec(name).platform
    start = time.monotonic()
    with open_session(device(sim, name), resolver=secrets, known_hosts=known_hosts) as session:
        taken["login"] = time.monotonic() - start
        start = time.monotonic()
        running = session.running_config()
        taken["show"] = time.monotonic() - start
        start = time.monotonic()
        session.push(LINES[platform], stays=lambda line: line.startswith(" "))
        taken["push"] = time.monotonic() - start
        start = time.monotonic()
        session.save()
        taken["save"] = time.monotonic() - start
    taken["size"] = len(running.encode())
    return taken


@pytest.mark.parametrize("platform", list(SHORT))
def test_a_paced_device_takes_its_profiles_time(
    paced: tuple[BackgroundDevsim, Path], secrets_env: SecretResolver, platform: str
) -> None:
    sim, known_hosts = paced
    taken = timed_rollout(sim, known_hosts, f"{SHORT[platform]}-slow", secrets_env)
    assert taken["login"] >= TEST.login + TEST.answer  # first prompt, then paging off answered
    assert taken["show"] >= TEST.answer + TEST.of("show", int(taken["size"]))
    # configuration mode in and out and every line answered on its own, batched or not
    assert taken["push"] >= (len(LINES[platform]) + 2) * TEST.answer
    assert taken["save"] >= TEST.save


def test_the_field_profile_is_played_as_recorded(
    paced: tuple[BackgroundDevsim, Path], secrets_env: SecretResolver
) -> None:
    sim, known_hosts = paced
    field = PROFILES["field"].delays("huawei_vrp")
    taken = timed_rollout(sim, known_hosts, "hw-field", secrets_env)
    assert taken["login"] >= field.login
    assert taken["save"] >= field.save
