"""Read permission on packages and bindings, as the controller's PackageCollection decides it."""

from __future__ import annotations

import pytest

from localwhisk.errors import Forbidden, NotFound, WrongCollection
from localwhisk.models import Action, Package, Trigger
from localwhisk.platform.resolver import (
    check_action_read,
    check_components,
    check_package_read,
    resolve_action,
    resolve_fqn,
)
from localwhisk.storage.store import Store


def message(resource: str) -> str:
    return f"The supplied authentication is not authorized to access '{resource}'."


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "db.sqlite")
    s.put(Package("guest", "pub", publish=True, parameters=[{"key": "p", "value": 1}]))
    s.put(Package("guest", "priv"))
    s.put(Package("guest", "pubbind", publish=True, binding={"namespace": "guest", "name": "pub"}))
    s.put(Trigger("guest", "notapkg"))
    for path in ("guest/pub", "guest/priv", "guest"):
        s.put(Action(path, "act", exec={"kind": "python:3.11", "code": "x"}))
    s.put(Package("other", "tobpub", binding={"namespace": "guest", "name": "pub"}))
    s.put(Package("other", "tobpriv", binding={"namespace": "guest", "name": "priv"}))
    s.put(Package("other", "dangling", binding={"namespace": "other", "name": "gone"}))
    return s


@pytest.mark.parametrize(
    ("caller", "namespace", "package"),
    [
        ("guest", "guest", "priv"),  # the owner reads its private package
        ("other", "guest", "pub"),  # anyone reads a published one
        ("other", "other", "tobpub"),  # an own binding to a published package
    ],
)
def test_readable(store, caller, namespace, package):
    check_package_read(store, caller, namespace, package)  # raises when refused


@pytest.mark.parametrize(
    ("caller", "namespace", "package"),
    [
        ("other", "guest", "priv"),  # another's private package
        ("other", "guest", "pubbind"),  # another's binding, even published
        ("other", "guest", "missing"),  # another's missing package: 403, not 404 (no leak)
        ("other", "guest", "notapkg"),  # nor a 409 that tells what the name is
        ("other", "other", "tobpriv"),  # an own binding whose target is private
        ("guest", "other", "tobpub"),  # another's binding to the caller's own package
    ],
)
def test_refused_with_the_resource_named(store, caller, namespace, package):
    with pytest.raises(Forbidden) as refused:
        check_package_read(store, caller, namespace, package)
    assert refused.value.message == message(f"{namespace}/{package}")


def test_the_owner_learns_what_is_missing(store):
    with pytest.raises(NotFound):
        check_package_read(store, "guest", "guest", "missing")
    with pytest.raises(WrongCollection):
        check_package_read(store, "guest", "guest", "notapkg")
    with pytest.raises(NotFound):  # own binding, own target deleted
        check_package_read(store, "other", "other", "dangling")


def test_resolving_checks_at_each_call(store):
    assert resolve_action(store, "other", "tobpub", "act", caller="other").params == {"p": 1}
    store.put(Package("guest", "pub", publish=False, parameters=[{"key": "p", "value": 1}]))
    with pytest.raises(Forbidden) as refused:
        resolve_action(store, "other", "tobpub", "act", caller="other")
    assert refused.value.message == message("other/tobpub")
    with pytest.raises(Forbidden) as refused:
        resolve_fqn(store, "/guest/pub/act", "other")
    assert refused.value.message == message("guest/pub")
    with pytest.raises(Forbidden) as refused:  # the default package is private
        resolve_fqn(store, "/guest/act", "other")
    assert refused.value.message == message("guest/act")
    assert resolve_fqn(store, "/_/pub/act", "guest").action.name == "act"


def test_web_style_check_is_on_the_real_package(store):
    found = store.get("guest/priv", "act")
    check_action_read(store, "guest", found)
    with pytest.raises(Forbidden) as refused:
        check_action_read(store, "other", found)
    assert refused.value.message == message("guest/priv")


def test_sequence_components_are_checked_but_missing_own_ones_left_to_the_run(store):
    seq = Action(
        "other",
        "seq",
        exec={"kind": "sequence", "components": ["/_/gone/act", "/other/tobpub/act"]},
    )
    check_components(store, "other", seq)
    seq.exec["components"].append("/guest/priv/act")
    with pytest.raises(Forbidden) as refused:
        check_components(store, "other", seq)
    assert refused.value.message == message("guest/priv")
