"""Basic auth: the guest key, extra namespaces, `_`, and refusals."""

from __future__ import annotations

import base64

import pytest

from localwhisk.config import Namespace
from localwhisk.errors import AuthInvalid, AuthMissing, Forbidden
from localwhisk.platform.auth import (
    Authenticator,
    Identity,
    parse_namespace_spec,
    resolve_namespace,
)
from whiskfacts.guest import GUEST_KEY, GUEST_UUID

OTHER = Namespace("team", "11111111-2222-3333-4444-555555555555", "k" * 64)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def auth():
    return Authenticator([Namespace("guest", GUEST_UUID, GUEST_KEY), OTHER])


def test_the_well_known_guest_key_authenticates(auth):
    identity = auth.authenticate(basic(GUEST_UUID, GUEST_KEY))
    assert identity.namespace == "guest"
    assert identity.api_key == f"{GUEST_UUID}:{GUEST_KEY}"


def test_each_namespace_has_its_own_key(auth):
    assert auth.authenticate(basic(OTHER.uuid, OTHER.key)).namespace == "team"
    with pytest.raises(AuthInvalid):
        auth.authenticate(basic(OTHER.uuid, GUEST_KEY))


@pytest.mark.parametrize(
    "header",
    [
        basic(GUEST_UUID, "x" * 64),
        basic(GUEST_UUID, GUEST_KEY[:-1]),
        "Bearer abc",
        "Basic !!!",
        basic("nobody", GUEST_KEY),
    ],
)
def test_wrong_credentials_are_invalid(auth, header):
    with pytest.raises(AuthInvalid) as raised:
        auth.authenticate(header)
    assert raised.value.message == "The supplied authentication is invalid"
    assert raised.value.status == 401


def test_missing_credentials_have_their_own_message(auth):
    with pytest.raises(AuthMissing) as raised:
        auth.authenticate("")
    assert (
        raised.value.message
        == "The resource requires authentication, which was not supplied with the request"
    )


def test_underscore_is_the_callers_namespace_and_others_are_forbidden():
    me = Identity("guest", GUEST_UUID, GUEST_KEY)
    assert resolve_namespace(me, "_") == "guest"
    assert resolve_namespace(me, "guest") == "guest"
    with pytest.raises(Forbidden):
        resolve_namespace(me, "team")


def test_namespace_specs_are_validated():
    assert parse_namespace_spec(f"team:{OTHER.uuid}:{OTHER.key}") == OTHER
    for bad in ["team", f"team:not-a-uuid:{OTHER.key}", f"team:{OTHER.uuid}:short"]:
        with pytest.raises(ValueError):
            parse_namespace_spec(bad)
