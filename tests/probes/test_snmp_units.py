"""The snmp probe's pure parts: BER checked against pysnmp's own codec, plans, settings, params."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder  # type: ignore[import-untyped]
from pysnmp.hlapi.v3arch.asyncio import auth as pysnmp_auth
from pysnmp.proto import api

from govnet.errors import ConfigError
from govnet.probes.registry import default_kinds
from govnet.probes.snmp import usm
from govnet.probes.snmp.ber import (
    FIRST_REQUEST_ID,
    GET,
    GETBULK,
    LAST_REQUEST_ID,
    BerError,
    Missing,
    Response,
    decode_response,
    request_template,
)
from govnet.probes.snmp.engine import AUTH_PROTOCOLS, PRIV_PROTOCOLS, UsmCredentials
from govnet.probes.snmp.plan import (
    SYS_UPTIME,
    Pdu,
    RequestPlan,
    Shared,
    build_pdus,
    candidate_cells,
    interface_statuses,
    read_answers,
    select_interfaces,
)
from govnet.probes.snmp.probe import Access, SnmpProbe, SnmpSettings
from tests.helpers import ROOT

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

oids = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=14).map(lambda rest: (1, 3, *rest))
request_ids = st.integers(FIRST_REQUEST_ID, LAST_REQUEST_ID)
communities = st.binary(min_size=1, max_size=300)


def pysnmp_request(
    request_id: int, community: bytes, oid_list: list[Any], bulk: tuple[int, int] | None
) -> bytes:
    pdu = V2C.GetBulkRequestPDU() if bulk else V2C.GetRequestPDU()
    (V2C.apiBulkPDU if bulk else V2C.apiPDU).set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    if bulk:
        V2C.apiBulkPDU.set_non_repeaters(pdu, bulk[0])
        V2C.apiBulkPDU.set_max_repetitions(pdu, bulk[1])
    V2C.apiPDU.set_varbinds(pdu, [(oid, V2C.Null("")) for oid in oid_list])
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


@settings(max_examples=150, deadline=None)
@given(request_ids, communities, st.lists(oids, min_size=1, max_size=45))
def test_get_request_is_byte_identical_to_pysnmp(
    request_id: int, community: bytes, oid_list: list[Any]
) -> None:
    template = request_template(community, GET, oid_list)
    assert template.packet(request_id) == pysnmp_request(request_id, community, oid_list, None)


@settings(max_examples=80, deadline=None)
@given(request_ids, communities, oids, st.integers(0, 3), st.integers(1, 200))
def test_getbulk_request_is_byte_identical_to_pysnmp(
    request_id: int, community: bytes, oid: Any, non_repeaters: int, repetitions: int
) -> None:
    template = request_template(community, GETBULK, [oid], non_repeaters, repetitions)
    assert template.packet(request_id) == pysnmp_request(
        request_id, community, [oid], (non_repeaters, repetitions)
    )
    message, _ = decoder.decode(template.packet(request_id), asn1Spec=V2C.Message())
    assert int(V2C.apiPDU.get_request_id(V2C.apiMessage.get_pdu(message))) == request_id


VALUES = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(V2C.Integer),
    st.integers(0, 2**32 - 1).map(V2C.Counter32),
    st.integers(0, 2**32 - 1).map(V2C.Gauge32),
    st.integers(0, 2**32 - 1).map(V2C.TimeTicks),
    st.integers(0, 2**64 - 1).map(V2C.Counter64),
    st.binary(max_size=300).map(V2C.OctetString),
    oids.map(V2C.ObjectIdentifier),
    st.sampled_from(["10.0.0.1", "192.168.255.254"]).map(V2C.IpAddress),
)


def plain(value: Any) -> Any:
    if isinstance(value, V2C.IpAddress | V2C.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, V2C.ObjectIdentifier):
        return tuple(value)
    return int(value)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**31 - 1), st.lists(st.tuples(oids, VALUES), max_size=40))
def test_response_decodes_like_pysnmp(request_id: int, varbinds: list[Any]) -> None:
    pdu = V2C.ResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_varbinds(pdu, varbinds)
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, "public")
    V2C.apiMessage.set_pdu(message, pdu)
    response = decode_response(bytes(encoder.encode(message)))
    assert response.request_id == request_id
    assert response.community == b"public"
    assert response.varbinds == [(oid, plain(value)) for oid, value in varbinds]


def test_snmpv2_exceptions_decode_to_missing() -> None:
    pdu = V2C.ResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, 7)
    V2C.apiPDU.set_varbinds(
        pdu,
        [
            ((1, 3, 1), V2C.NoSuchObject("")),
            ((1, 3, 2), V2C.NoSuchInstance("")),
            ((1, 3, 3), V2C.EndOfMibView("")),
        ],
    )
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_pdu(message, pdu)
    response = decode_response(bytes(encoder.encode(message)))
    assert [value for _, value in response.varbinds] == list(Missing)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_raises_only_ber_error(data: bytes) -> None:
    with contextlib.suppress(BerError):
        decode_response(data)


def test_requests_are_not_taken_for_responses() -> None:
    with pytest.raises(BerError, match="unexpected PDU type"):
        decode_response(request_template(b"public", GET, [SYS_UPTIME]).packet(FIRST_REQUEST_ID))


def test_interface_selection_prefers_ifname_then_ifdescr() -> None:
    names = {1: "Gi0/1", 2: "Gi0/2", 9: "Gi0/1"}
    descrs = {1: "GigabitEthernet0/1", 3: "Vlan-interface1"}
    chosen, missing = select_interfaces(["Gi0/1", "Vlan-interface1", "Gi0/1", "x"], names, descrs)
    assert chosen == [(1, "Gi0/1"), (3, "Vlan-interface1")]
    assert missing == ["x"]
    assert select_interfaces([], {}, descrs) == ([(1, "GigabitEthernet0/1"), (3, "Vlan-interface1")], [])
    everything, _ = select_interfaces([], {1: "", 2: "Gi0/2"}, {1: "Loop0", 3: "Vlan3"})
    assert everything == [(1, "Loop0"), (2, "Gi0/2"), (3, "Vlan3")]  # empty ifName: ifDescr names it


def test_steady_state_is_one_pdu_until_max_varbinds() -> None:
    cells = candidate_cells([(i, f"if{i}") for i in range(1, 7)], ["oper_status", "in_octets", "out_octets"])
    assert [len(p.oids) for p in build_pdus(cells, 40)] == [19]
    assert [len(p.oids) for p in build_pdus(cells, 10)] == [10, 9]
    assert build_pdus(cells, 40)[0].oids[0] == SYS_UPTIME


def test_answers_must_match_the_oids_asked() -> None:
    pdu = Pdu([SYS_UPTIME, (1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1)], [None, (0, "oper_status")])
    good = Response(1, 0, 0, [(SYS_UPTIME, 500), ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1), 1)])
    uptime, values = read_answers([pdu], [good])
    assert uptime == 500
    assert interface_statuses([(1, "lo")], values)[0].oper_status == 1
    wrong = Response(1, 0, 0, [(SYS_UPTIME, 500), ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 2), 1)])
    with pytest.raises(ValueError, match="other OIDs"):
        read_answers([pdu], [wrong])


def test_factory_is_registered_and_strict() -> None:
    kind = default_kinds()["snmp"]
    probe = kind.make(
        SnmpSettings.parse({"timeout": 0.5, "retries": 2, "max_varbinds": 10, "columns": ["in_octets"]})
    )
    assert isinstance(probe, SnmpProbe)
    assert probe.settings == SnmpSettings(
        timeout=0.5, retries=2, max_varbinds=10, columns=("oper_status", "in_octets")
    )
    bad_settings: list[tuple[dict[str, Any], str]] = [
        ({"workers": 2}, "workers: unknown snmp setting"),
        ({"timeout": 0}, "timeout: must be a number from 0.001"),
        ({"retries": 1.5}, "retries: must be an integer"),
        ({"columns": ["ifFoo"]}, r"columns\[0\]: input should be"),
        ({"max_in_flight": 0}, "max_in_flight: must be an integer from 1"),
    ]
    for bad, message in bad_settings:
        with pytest.raises(ConfigError, match=message):
            SnmpSettings.parse(bad)


def test_params_errors_never_show_secrets() -> None:
    secret = "s3cr3t-auth-key"
    creds = UsmCredentials.from_params(
        {
            "user": "u",
            "auth_protocol": "SHA256",
            "auth_key": secret,
            "priv_protocol": "aes256",
            "priv_key": secret,
        }
    )
    assert secret not in repr(creds) and creds.auth_protocol == "sha256"
    bad_params: list[tuple[dict[str, Any], str]] = [
        ({"version": "v3", "user": "u", "auth_protocol": "sha", "auth_key": "short"}, "at least 8"),
        (
            {"version": "v3", "user": "u", "auth_protocol": "rot13", "auth_key": secret},
            "unknown auth_protocol",
        ),
        (
            {"version": "v3", "user": "u", "priv_protocol": "aes", "priv_key": secret},
            "needs an auth_protocol",
        ),
        ({"version": "v1", "community": secret}, "unsupported SNMP version"),
        ({"version": "v2c"}, "community"),
        ({"version": "v2c", "community": "c", "interfaces": "Gi0/1"}, "list of interface names"),
        ({"community": "c", "interfaces": 5}, "list of interface names"),
    ]
    for params, message in bad_params:
        with pytest.raises(ValueError, match=message) as caught:
            Access.from_params(params)
        assert secret not in str(caught.value)


def test_every_protocol_name_an_operator_may_give_is_one_pysnmp_is_given() -> None:
    """The names are checked without pysnmp (`engine`) and mapped to its objects in `usm`."""
    assert tuple(usm.AUTH_PROTOCOLS) == AUTH_PROTOCOLS
    assert tuple(usm.PRIV_PROTOCOLS) == PRIV_PROTOCOLS
    for auth in AUTH_PROTOCOLS:
        for priv in (None, *PRIV_PROTOCOLS):
            params = {"user": "u", "auth_protocol": auth, "auth_key": "k" * 8, "priv_key": "p" * 8}
            user = UsmCredentials.from_params({**params, "priv_protocol": priv}).usm_user()
            assert user.authentication_protocol == usm.AUTH_PROTOCOLS[auth]
            assert user.privacy_protocol == (usm.PRIV_PROTOCOLS[priv] if priv else pysnmp_auth.USM_PRIV_NONE)


PROBES_WITHOUT_PYSNMP = """
import asyncio, sys
from govnet.monitor.__main__ import main
from govnet.probes.health.probe import HealthProbe
from govnet.probes.snmp.probe import Access, SnmpProbe
from govnet.probes.snmp.engine import UsmCredentials

async def build() -> None:
    await SnmpProbe().close()
    await HealthProbe().close()

asyncio.run(build())
Access.from_params({"version": "v2c", "community": "c"})
creds = UsmCredentials.from_params({"user": "u", "auth_protocol": "sha", "auth_key": "k" * 8})
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pysnmp", "pysmi", "pyasn1")))
creds.usm_user()
print("pysnmp" in sys.modules)
"""


def test_the_probes_import_pysnmp_only_for_an_snmpv3_user() -> None:
    """The daemon's entry and both SNMP probes, built and closed, leave pysnmp unloaded (~21 MB
    a v2c-only daemon never pays); the first v3 user loads it. A fresh interpreter: the test
    session itself has pysnmp loaded. (The daemon itself: tests/monitor/test_daemon_imports.py.)"""
    ran = subprocess.run(
        [sys.executable, "-c", PROBES_WITHOUT_PYSNMP], check=True, capture_output=True, text=True, cwd=ROOT
    )
    assert ran.stdout.split("\n")[:2] == ["[]", "True"], ran.stdout + ran.stderr


def test_plans_of_units_alike_share_their_tuples() -> None:
    def plan(names: dict[int, str]) -> RequestPlan:
        chosen, missing = select_interfaces(["Gi0/1", "Gi0/2"], names, {})
        return RequestPlan(chosen, candidate_cells(chosen, ["oper_status", "in_octets"]), missing, 0.0, 3)

    one, twin, other = plan({1: "Gi0/1", 2: "Gi0/2"}), plan({1: "Gi0/1", 2: "Gi0/2"}), plan({5: "Gi0/1"})
    assert (one.interfaces, one.cells, one.missing) == (((1, "Gi0/1"), (2, "Gi0/2")), twin.cells, ())
    assert one.interfaces is twin.interfaces and one.cells is twin.cells and one.missing is twin.missing
    assert [len(p.oids) for p in one.pdus] == [3, 2]  # sysUpTime and four cells, three a PDU
    for a, b in zip(one.pdus, twin.pdus, strict=True):
        assert a is not b and a.oids is b.oids and a.slots is b.slots  # a PDU's template is its own
    assert other.missing == ("Gi0/2",) and other.cells[0][2] == (1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 5)


def test_the_shared_table_empties_itself_when_full() -> None:
    table = Shared(limit=2)
    first = table((1, 2))
    assert table((1, 2)) is first and table.keyed("k", lambda: b"made") == b"made" and len(table) == 2
    assert table.keyed("k", lambda: b"again") == b"made"
    copy = tuple([1, 2])
    assert table((3,)) == (3,) and len(table) == 1  # full: emptied, then kept the new one
    assert table(copy) is copy and first == copy  # equal values are still equal, just no longer one
