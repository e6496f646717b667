"""``python -m localwhisk``: flags (falling back to ``LOCALWHISK_*``), bind, serve, stop cleanly.

The only place that prints and exits. It binds the socket itself so that port 0
works and the ready line names the real port; keys are never printed.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from localwhisk.config import Limits, Namespace, Settings
from whiskfacts.guest import GUEST_KEY, GUEST_NAMESPACE, GUEST_UUID

ENV_PREFIX = "LOCALWHISK_"


def _env_flag(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


# flag -> (type, default, help); every one may also come from LOCALWHISK_<FLAG>.
LIMIT_FLAGS: dict[str, tuple[type, object, str]] = {
    "timeout-min": (int, 100, "minimum action timeout, ms"),
    "timeout-max": (int, 10_800_000, "maximum action timeout, ms"),
    "memory-min": (int, 128, "minimum action memory, MB"),
    "memory-max": (int, 2048, "maximum action memory, MB"),
    "logs-min": (int, 0, "minimum action log size, MB"),
    "logs-max": (int, 10, "maximum action log size, MB"),
    "blocking-wait": (int, 60_000, "longest wait of a blocking invoke or web action, ms"),
    "payload-limit": (int, 1_048_576, "largest request body for invokes and fires, bytes"),
    "invocations-per-minute": (int, 0, "invocations per namespace and minute (0 = off)"),
    "concurrent-invocations": (int, 0, "activations in flight per namespace (0 = off)"),
    "fires-per-minute": (int, 0, "trigger fires per namespace and minute (0 = off)"),
    "retention-days": (float, 7.0, "days to keep activations (0 = forever)"),
}


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    def env(name: str, default: object) -> object:
        return environ.get(_env_flag(name), default)

    parser = argparse.ArgumentParser(
        prog="python -m localwhisk", description="A local OpenWhisk-compatible server."
    )
    parser.add_argument("--host", default=env("host", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(str(env("port", 3233))))
    parser.add_argument("--data", type=Path, default=Path(str(env("data", ".localwhisk/data"))))
    parser.add_argument("--pid-file", type=Path, default=env("pid-file", None))
    parser.add_argument(
        "--namespace",
        action="extend",
        nargs="+",
        default=[s for s in str(env("namespace", "")).split(",") if s],
        metavar="NAME:UUID:KEY",
        help="extra namespaces and their credentials (repeatable; env: comma-separated)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        default=str(env("allow-remote", "")).lower() in {"1", "true", "yes"},
        help="allow binding a non-loopback address (plain HTTP, no TLS)",
    )
    parser.add_argument(
        "--isolation",
        choices=("auto", "bwrap", "none"),
        default=env("isolation", "auto"),
        help="how actions are contained: bubblewrap when it works (auto), always, or not",
    )
    for flag, (kind, default, text) in LIMIT_FLAGS.items():
        parser.add_argument(f"--{flag}", type=kind, default=kind(env(flag, default)), help=text)
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_from(ns: argparse.Namespace) -> Settings:
    from localwhisk.platform.auth import parse_namespace_spec

    spaces = [Namespace(GUEST_NAMESPACE, GUEST_UUID, GUEST_KEY)]
    for spec in ns.namespace:
        spaces.append(parse_namespace_spec(spec))
    limits = Limits(
        timeout_min=ns.timeout_min,
        timeout_max=ns.timeout_max,
        timeout_default=min(max(60_000, ns.timeout_min), ns.timeout_max),
        memory_min=ns.memory_min,
        memory_max=ns.memory_max,
        memory_default=min(max(256, ns.memory_min), ns.memory_max),
        logs_min=ns.logs_min,
        logs_max=ns.logs_max,
        logs_default=min(max(10, ns.logs_min), ns.logs_max),
        blocking_wait_ms=ns.blocking_wait,
        payload_bytes=ns.payload_limit,
        invocations_per_minute=ns.invocations_per_minute,
        concurrent_invocations=ns.concurrent_invocations,
        fires_per_minute=ns.fires_per_minute,
    )
    return Settings(
        host=ns.host,
        port=ns.port,
        data_dir=ns.data.resolve(),
        namespaces=tuple(spaces),
        limits=limits,
        retention_days=ns.retention_days,
        isolation=ns.isolation,
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def fail(message: str) -> int:
    print(f"localwhisk: error: {message}", file=sys.stderr, flush=True)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(os.environ)
    ns = parser.parse_args(argv)
    try:
        settings = settings_from(ns)
    except ValueError as exc:
        return fail(f"--namespace: {exc}")
    if not _is_loopback(settings.host) and not ns.allow_remote:
        return fail(
            f"refusing to bind {settings.host}: not a loopback address (pass --allow-remote)"
        )
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return fail(f"cannot use data directory {settings.data_dir}: {exc.strerror}")
    from localwhisk.runtime.sandbox import IsolationUnavailable, choose

    try:
        isolation = choose(settings.isolation)
        isolation.check_hidden(settings.data_dir)
    except IsolationUnavailable as exc:
        return fail(str(exc))
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        return fail(f"cannot listen on {settings.host}:{settings.port}: {reason}")
    port = sock.getsockname()[1]
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown_host}:{port}"
    if not _is_loopback(settings.host):
        print(
            f"localwhisk: warning: listening on {settings.host} without TLS; credentials travel in clear text",
            file=sys.stderr,
            flush=True,
        )
    # Never silently less: the server says which containment is in force before it serves.
    print(f"localwhisk: {isolation.describe()}", file=sys.stderr, flush=True)
    from localwhisk.service import serve  # imported late: argparse errors stay fast

    pid_file: Path | None = ns.pid_file
    try:
        if pid_file is not None:
            write_pid(pid_file)
        serve(settings, sock, url)
    finally:
        if pid_file is not None:
            try:
                if pid_file.read_text().strip() == str(os.getpid()):
                    pid_file.unlink()
            except OSError:
                pass
    return 0


def write_pid(pid_file: Path) -> None:
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{os.getpid()}\n")


if __name__ == "__main__":
    sys.exit(main())
