"""Start-up flags: environment fallbacks, refusals with exit status 2, binding port 0."""

from __future__ import annotations

import socket

from localwhisk.__main__ import bind, build_parser, main, settings_from


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
    assert err == [f"localwhisk: error: cannot listen on 127.0.0.1:{port}: address already in use"]


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
