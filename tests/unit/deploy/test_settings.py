"""Credential precedence, .wskprops parsing and masking; environ and home are parameters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.errors import SettingsError
from deploy.settings import GUEST_AUTH, Settings, mask, normalize_apihost, resolve_settings

KEY = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:" + "s3cr3t" * 10 + "abcd"
OTHER = "11111111-2222-3333-4444-555555555555:" + "x" * 64
NO_FLAGS: dict[str, str | None] = {"apihost": None, "auth": None, "namespace": None}


def resolved(s: Settings) -> tuple[str, str, str, str]:
    return (s.apihost, s.auth, s.namespace, s.source)


def write_props(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_nothing_configured_gives_the_local_default(tmp_path: Path) -> None:
    s = resolve_settings(NO_FLAGS, {}, tmp_path)
    assert resolved(s) == (
        "http://127.0.0.1:3233",
        GUEST_AUTH,
        "guest",
        "local default",
    )
    assert s.is_local_default


def test_the_local_default_follows_the_port_localwhisk_is_given(tmp_path: Path) -> None:
    # `LW_PORT=3299 make deploy` starts localwhisk on 3299 and passes LOCALWHISK_PORT on
    s = resolve_settings(NO_FLAGS, {"LOCALWHISK_PORT": "3299"}, tmp_path)
    assert resolved(s) == ("http://127.0.0.1:3299", GUEST_AUTH, "guest", "local default")
    assert s.is_local_default
    # only the local default: a configured host is not moved
    given = resolve_settings(
        NO_FLAGS,
        {"LOCALWHISK_PORT": "3299", "WHISK_APIHOST": "ow.example", "WHISK_AUTH": KEY},
        tmp_path,
    )
    assert given.apihost == "https://ow.example"


@pytest.mark.parametrize("bad", ["0", "70000", "32x", "-1"])
def test_a_local_port_that_is_no_port_is_a_settings_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings(NO_FLAGS, {"LOCALWHISK_PORT": bad}, tmp_path)
    assert f"LOCALWHISK_PORT={bad!r}: expected the local server's port" in str(err.value)


def test_flags_beat_environment_and_wskprops(tmp_path: Path) -> None:
    write_props(tmp_path / ".wskprops", f"APIHOST=props.example\nAUTH={OTHER}\n")
    env = {"WHISK_APIHOST": "env.example", "WHISK_AUTH": OTHER}
    s = resolve_settings({"apihost": "flag.example", "auth": KEY, "namespace": "ns"}, env, tmp_path)
    assert resolved(s) == (
        "https://flag.example",
        KEY,
        "ns",
        "flags",
    )


def test_each_field_comes_from_the_first_source_that_sets_it(tmp_path: Path) -> None:
    write_props(tmp_path / ".wskprops", f"APIHOST=props.example\nAUTH={OTHER}\nNAMESPACE=propns\n")
    s = resolve_settings(NO_FLAGS, {"WHISK_AUTH": KEY}, tmp_path)
    assert s.apihost == "https://props.example"
    assert s.auth == KEY
    assert s.namespace == "propns"
    assert s.source == f".wskprops ({tmp_path / '.wskprops'})"


def test_whisk_env_beats_aio_env(tmp_path: Path) -> None:
    env = {
        "WHISK_APIHOST": "https://w.example",
        "WHISK_AUTH": KEY,
        "AIO_RUNTIME_APIHOST": "https://a.example",
        "AIO_RUNTIME_AUTH": OTHER,
        "AIO_RUNTIME_NAMESPACE": "aions",
    }
    s = resolve_settings(NO_FLAGS, env, tmp_path)
    assert resolved(s) == (
        "https://w.example",
        KEY,
        "aions",
        "env WHISK_*",
    )


def test_aio_lower_case_spelling_is_accepted(tmp_path: Path) -> None:
    env = {
        "AIO_runtime_apihost": "https://a.example",
        "AIO_runtime_auth": KEY,
        "AIO_runtime_namespace": "myns",
    }
    s = resolve_settings(NO_FLAGS, env, tmp_path)
    assert resolved(s) == (
        "https://a.example",
        KEY,
        "myns",
        "env AIO_RUNTIME_*",
    )


def test_aio_key_without_apihost_targets_adobe_like_aio_does(tmp_path: Path) -> None:
    s = resolve_settings(
        NO_FLAGS, {"AIO_RUNTIME_AUTH": KEY, "AIO_RUNTIME_NAMESPACE": "n"}, tmp_path
    )
    assert s.apihost == "https://adobeioruntime.net"
    assert not s.is_local_default


def test_whisk_key_without_apihost_is_an_error_not_the_local_server(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings(NO_FLAGS, {"WHISK_AUTH": KEY}, tmp_path)
    assert "WHISK_APIHOST" in str(err.value) and KEY not in str(err.value)


def test_apihost_without_key_names_every_place_a_key_can_come_from(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings(NO_FLAGS, {"WHISK_APIHOST": "ow.example"}, tmp_path)
    message = str(err.value)
    for place in ("--auth", "WHISK_AUTH", "AIO_RUNTIME_AUTH", "AUTH in", ".wskprops"):
        assert place in message
    assert err.value.exit_code == 2


def test_wsk_config_file_replaces_home_wskprops(tmp_path: Path) -> None:
    write_props(tmp_path / ".wskprops", f"APIHOST=home.example\nAUTH={OTHER}\n")
    other = write_props(tmp_path / "custom.props", f"APIHOST=custom.example\nAUTH={KEY}\n")
    s = resolve_settings(NO_FLAGS, {"WSK_CONFIG_FILE": str(other)}, tmp_path)
    assert (s.apihost, s.auth) == ("https://custom.example", KEY)


@pytest.mark.parametrize("value", ["", "/nonexistent/wskprops"])
def test_wsk_config_file_set_to_nothing_ignores_home_wskprops(tmp_path: Path, value: str) -> None:
    write_props(tmp_path / ".wskprops", f"APIHOST=home.example\nAUTH={OTHER}\n")
    s = resolve_settings(NO_FLAGS, {"WSK_CONFIG_FILE": value}, tmp_path)
    assert s.is_local_default


def test_wskprops_comments_and_malformed_lines_follow_the_go_cli(tmp_path: Path) -> None:
    write_props(
        tmp_path / ".wskprops",
        "# a comment\n  APIHOST = host.example  # trailing\nAUTH=a=b\nauth2\n"
        f"NAMESPACE=ns\nAUTH={KEY}\n",
    )
    s = resolve_settings(NO_FLAGS, {}, tmp_path)
    assert (s.apihost, s.auth, s.namespace) == ("https://host.example", KEY, "ns")


def test_world_readable_wskprops_warns(tmp_path: Path) -> None:
    path = write_props(tmp_path / ".wskprops", f"APIHOST=h.example\nAUTH={KEY}\n", mode=0o644)
    s = resolve_settings(NO_FLAGS, {}, tmp_path)
    assert any("chmod 600" in w and str(path) in w for w in s.warnings)
    os.chmod(path, 0o600)
    assert resolve_settings(NO_FLAGS, {}, tmp_path).warnings == ()


def test_namespace_defaults_to_underscore(tmp_path: Path) -> None:
    s = resolve_settings({"apihost": "h.example", "auth": KEY, "namespace": None}, {}, tmp_path)
    assert s.namespace == "_"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("openwhisk.example", "https://openwhisk.example"),
        ("localhost:3233", "http://localhost:3233"),
        ("127.0.0.1:3233/", "http://127.0.0.1:3233"),
        ("http://ow.example:8080", "http://ow.example:8080"),
        ("[::1]:3233", "http://[::1]:3233"),
    ],
)
def test_apihost_scheme_follows_the_wsk_cli(given: str, expected: str) -> None:
    assert normalize_apihost(given) == expected


def test_mask_hides_the_key_and_its_secret_half() -> None:
    s = Settings("https://h", KEY, "ns", "flags")
    secret = KEY.split(":", 1)[1]
    text = f"key {KEY} secret {secret} done"
    assert mask(text, s) == "key *** secret *** done"
    assert KEY not in repr(s) and secret not in repr(s)


@pytest.mark.parametrize("bad", ["ftp://ow.example", "https://"])
def test_apihost_with_a_wrong_scheme_is_a_settings_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings({"apihost": bad, "auth": KEY, "namespace": None}, {}, tmp_path)
    assert "expected http://host" in str(err.value)


def test_manifest_namespace_ranks_below_env_and_above_wskprops(tmp_path: Path) -> None:
    write_props(tmp_path / ".wskprops", f"APIHOST=h.example\nAUTH={KEY}\nNAMESPACE=propns\n")
    assert resolve_settings(NO_FLAGS, {}, tmp_path, "manifestns").namespace == "manifestns"
    env = {"WHISK_NAMESPACE": "envns"}
    assert resolve_settings(NO_FLAGS, env, tmp_path, "manifestns").namespace == "envns"
