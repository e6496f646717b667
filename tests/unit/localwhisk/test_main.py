"""Start-up flags: environment fallbacks, refusals with exit status 2, binding port 0,
namespace keys kept off argv, a private data folder, the browser and HTTP-bound flags."""

from __future__ import annotations

import resource
import socket
import stat

import pytest

from localwhisk.__main__ import (
    StartError,
    bind,
    build_parser,
    main,
    secure_data_dir,
    settings_from,
)


def test_flags_fall_back_to_localwhisk_environment_variables():
    parser = build_parser(
        {
            "LOCALWHISK_PORT": "4000",
            "LOCALWHISK_TIMEOUT_MAX": "300000",
            "LOCALWHISK_INVOCATIONS_PER_MINUTE": "60",
        }
    )
    args = parser.parse_args([])
    assert args.port == 4000
    settings = settings_from(args)
    assert settings.limits.timeout_max == 300000
    assert settings.limits.invocations_per_minute == 60
    assert parser.parse_args(["--port", "5"]).port == 5


def test_defaults_match_the_brief():
    settings = settings_from(build_parser({}).parse_args([]))
    assert (settings.host, settings.port) == ("127.0.0.1", 3233)
    limits = settings.limits
    assert (limits.timeout_min, limits.timeout_max, limits.memory_min, limits.memory_max) == (
        100,
        10_800_000,
        128,
        2048,
    )
    assert (limits.blocking_wait_ms, limits.payload_bytes) == (60_000, 1_048_576)
    assert (
        limits.invocations_per_minute,
        limits.concurrent_invocations,
        limits.fires_per_minute,
    ) == (0, 0, 0)
    assert [ns.name for ns in settings.namespaces] == ["guest"]


def test_remote_binding_needs_allow_remote(capsys):
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--allow-remote" in err and "Traceback" not in err


def test_bad_namespace_spec_is_a_clear_error(capsys):
    assert main(["--namespace", "team:nope:short", "--port", "0"]) == 2
    assert "--namespace" in capsys.readouterr().err


def test_port_in_use_is_exit_2_with_one_line(capsys, tmp_path):
    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        assert main(["--port", str(port), "--data", str(tmp_path)]) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"localwhisk: error: cannot listen on 127.0.0.1:{port}: address already in use"
        " (hint: another port: --port N or LOCALWHISK_PORT=N; with make, LW_PORT=N make deploy)"
    ]


def test_port_zero_binds_a_real_port():
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
        assert sock.family == socket.AF_INET
    finally:
        sock.close()


def test_namespace_flag_takes_several_specs():
    spec = "team:11111111-2222-3333-4444-555555555555:" + "k" * 64
    settings = settings_from(
        build_parser({}).parse_args(["--namespace", spec, spec.replace("team", "ops")])
    )
    assert [ns.name for ns in settings.namespaces] == ["guest", "team", "ops"]


def test_unusable_data_directory_is_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["--port", "0", "--data", str(blocker / "data")]) == 2
    assert "cannot use data directory" in capsys.readouterr().err


KEY = "k" * 64
TEAM = f"team:11111111-2222-3333-4444-555555555555:{KEY}"
OPS = f"ops:11111111-2222-3333-4444-666666666666:{KEY}"


def test_namespaces_come_from_a_file_and_the_environment(tmp_path):
    listing = tmp_path / "namespaces"
    listing.write_text(f"# team keys\n\n{TEAM}\n")
    args = build_parser({"LOCALWHISK_NAMESPACES": OPS}).parse_args(
        ["--namespaces-file", str(listing)]
    )
    settings = settings_from(args)
    assert [ns.name for ns in settings.namespaces] == ["guest", "team", "ops"]
    assert settings.namespaces[1].key == KEY


def test_a_bad_namespaces_file_line_names_file_and_line_but_not_the_key(tmp_path):
    listing = tmp_path / "namespaces"
    listing.write_text(f"{TEAM}\nops:not-a-uuid:{KEY}\n")
    args = build_parser({}).parse_args(["--namespaces-file", str(listing)])
    with pytest.raises(StartError) as caught:
        settings_from(args)
    assert f"{listing} line 2" in str(caught.value) and "UUID" in str(caught.value)
    assert KEY not in str(caught.value)
    missing = build_parser({}).parse_args(["--namespaces-file", str(tmp_path / "none")])
    with pytest.raises(StartError, match="cannot read it"):
        settings_from(missing)


def test_a_namespace_given_twice_is_refused(tmp_path):
    args = build_parser({"LOCALWHISK_NAMESPACES": TEAM}).parse_args(["--namespace", TEAM])
    with pytest.raises(StartError, match="'team' is given twice"):
        settings_from(args)


def test_the_argv_form_warns_without_showing_the_key(capsys, tmp_path):
    # Refused later (remote bind) so main returns before serving; the warning comes first.
    assert main(["--namespace", TEAM, "--host", "0.0.0.0", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "/proc/PID/cmdline" in err and "team" in err and "--namespaces-file" in err
    assert KEY not in err


def test_an_open_namespaces_file_gets_a_warning(capsys, tmp_path):
    listing = tmp_path / "namespaces"
    listing.write_text(TEAM + "\n")
    listing.chmod(0o644)
    argv = ["--namespaces-file", str(listing), "--host", "0.0.0.0", "--data", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"chmod 600 {listing}" in err and KEY not in err


def test_data_folder_is_made_private_and_the_database_0600(tmp_path):
    data = tmp_path / "data"
    assert secure_data_dir(data) is None
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "localwhisk.db").stat().st_mode) == 0o600
    # An existing folder from before: tightened, and so are its WAL files.
    data.chmod(0o755)
    (data / "localwhisk.db-wal").write_bytes(b"")
    (data / "localwhisk.db-wal").chmod(0o644)
    assert secure_data_dir(data) is None
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "localwhisk.db-wal").stat().st_mode) == 0o600


def test_a_shared_folder_is_not_chmodded_but_warned_about(tmp_path):
    (tmp_path / "notes.txt").write_text("the user's")
    tmp_path.chmod(0o755)
    warning = secure_data_dir(tmp_path)
    assert warning is not None and f"chmod 700 {tmp_path}" in warning
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "localwhisk.db").stat().st_mode) == 0o600


def test_browser_flags_are_repeatable_validated_and_read_from_the_environment():
    parser = build_parser({"LOCALWHISK_ALLOW_ORIGIN": "http://localhost:5173"})
    args = parser.parse_args(["--allow-origin", "https://app.example/", "--allow-host", "lan-box"])
    settings = settings_from(args)
    assert settings.allowed_origins == ("http://localhost:5173", "https://app.example/")
    assert settings.allowed_hosts == ("lan-box",)
    for bad in (["--allow-origin", "*"], ["--allow-origin", "localhost:5173"]):
        with pytest.raises(StartError, match="not an origin"):
            settings_from(build_parser({}).parse_args(bad))


def test_http_bounds_have_defaults_below_the_fd_limit_and_refuse_more():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    bounds = settings_from(build_parser({}).parse_args([])).http
    assert 16 <= bounds.max_connections <= soft // 2
    assert (bounds.max_header_bytes, bounds.header_timeout_s) == (65536, 10.0)
    with pytest.raises(StartError, match="ulimit -n"):
        settings_from(build_parser({}).parse_args(["--max-connections", str(soft)]))
    with pytest.raises(StartError, match="--header-timeout must be greater than 0"):
        settings_from(build_parser({}).parse_args(["--header-timeout", "0"]))
