"""``python -m localwhisk``: flags (falling back to ``LOCALWHISK_*``), bind, serve, stop cleanly.

``--profile`` picks the limits (``profiles``); the limit flags override single figures.

The only place that prints and exits. It binds the socket itself so that port 0
works and the ready line names the real port; keys are never printed. Namespace
keys come from a file or the environment: a ``--namespace NAME:UUID:KEY`` on the
command line is readable by every local process in ``/proc/PID/cmdline``, so that
form still works but gets a warning. The data folder is made private (0700) and the
database files 0600 before the store opens them.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import resource
import socket
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from localwhisk.config import HttpBounds, Limits, Namespace, Settings
from localwhisk.origins import OriginPolicy
from localwhisk.profiles import PROFILES, Profile, describe
from whiskfacts.guest import GUEST_KEY, GUEST_NAMESPACE, GUEST_UUID

ENV_PREFIX = "LOCALWHISK_"


def _env_flag(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


# flag -> (Limits field, help). Unset, a limit is the profile's; every one may also come
# from LOCALWHISK_<FLAG>, and overrides the profile's figure.
LIMIT_FLAGS: dict[str, tuple[str, str]] = {
    "timeout-min": ("timeout_min", "minimum action timeout, ms"),
    "timeout-max": ("timeout_max", "maximum action timeout, ms"),
    "memory-min": ("memory_min", "minimum action memory, MB"),
    "memory-max": ("memory_max", "maximum action memory, MB"),
    "logs-min": ("logs_min", "minimum action log size, MB"),
    "logs-max": ("logs_max", "maximum action log size, MB"),
    "blocking-wait": ("blocking_wait_ms", "longest wait of a blocking invoke or web action, ms"),
    "payload-limit": ("payload_bytes", "largest request body for invokes and fires, bytes"),
    "invocations-per-minute": (
        "invocations_per_minute",
        "invocations per namespace and minute (0 = off)",
    ),
    "concurrent-invocations": (
        "concurrent_invocations",
        "activations in flight per namespace (0 = off)",
    ),
    "fires-per-minute": ("fires_per_minute", "trigger fires per namespace and minute (0 = off)"),
}
# Each default moves into the new bounds when a flag moves a bound past it.
CLAMPED_DEFAULTS = (
    ("timeout_default", "timeout_min", "timeout_max"),
    ("memory_default", "memory_min", "memory_max"),
    ("logs_default", "logs_min", "logs_max"),
)


DB_NAME = "localwhisk.db"
# What localwhisk itself keeps in its data folder; a folder holding only these may be
# tightened to 0700 (one holding anything else is the user's and only gets a warning).
OWN_ENTRIES = {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal", "work"}
FD_RESERVE = 64  # descriptors kept for the database, logs and action pipes at the least


def default_max_connections() -> int:
    """Half the open-file limit (at most 4096): the rest is for actions' pipes and files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, min(4096, soft // 2))


def _list(value: object) -> list[str]:
    return [s.strip() for s in str(value).replace("\n", ",").split(",") if s.strip()]


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    def env(name: str, default: object) -> object:
        return environ.get(_env_flag(name), default)

    bounds = HttpBounds()

    parser = argparse.ArgumentParser(
        prog="python -m localwhisk", description="A local OpenWhisk-compatible server."
    )
    parser.add_argument("--host", default=env("host", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(str(env("port", 3233))))
    parser.add_argument("--data", type=Path, default=Path(str(env("data", ".localwhisk/data"))))
    parser.add_argument("--pid-file", type=Path, default=env("pid-file", None))
    parser.add_argument(
        "--namespaces-file",
        type=Path,
        default=env("namespaces-file", None),
        metavar="FILE",
        help="extra namespaces, one NAME:UUID:KEY a line (# comments); keep it mode 0600",
    )
    parser.add_argument(
        "--namespace",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME:UUID:KEY",
        help="an extra namespace on the command line (visible to local processes: prefer "
        "--namespaces-file or LOCALWHISK_NAMESPACES, comma-separated)",
    )
    # The environment is private to the user (unlike argv), so its specs get no warning.
    parser.set_defaults(env_namespaces=_list(env("namespaces", "")) + _list(env("namespace", "")))
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=_list(env("allow-origin", "")),
        metavar="URL",
        help="a web page origin (scheme://host[:port]) granted CORS on the REST API "
        "(repeatable; env: comma-separated)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=_list(env("allow-host", "")),
        metavar="NAME",
        help="another name clients may use in the Host header, for --allow-remote "
        "(repeatable; env: comma-separated)",
    )
    parser.add_argument(
        "--max-header-bytes",
        type=int,
        default=int(str(env("max-header-bytes", bounds.max_header_bytes))),
        help="largest request line plus headers, bytes (431 past it)",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=float(str(env("header-timeout", bounds.header_timeout_s))),
        help="seconds a client has to send a request's headers",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=float,
        default=float(str(env("keep-alive-timeout", bounds.keep_alive_timeout_s))),
        help="seconds an idle connection stays open between requests",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=int(str(env("max-connections", 0))),
        help="open connections before new ones get 503 (0 = half the open-file limit)",
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
    parser.add_argument(
        "--profile",
        default=env("profile", "default"),
        metavar="NAME",
        help="the limits to apply: "
        + "; ".join(f"{p.name} ({p.title})" for p in PROFILES.values())
        + ". The flags below override single figures",
    )
    for flag, (field, text) in LIMIT_FLAGS.items():
        figures = ", ".join(f"{p.name} {getattr(p.limits, field)}" for p in PROFILES.values())
        # A string default goes through ``type`` too, so a bad environment value is an
        # argparse error naming the flag, not a traceback.
        parser.add_argument(
            f"--{flag}", type=int, default=env(flag, None), help=f"{text} (profiles: {figures})"
        )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=env("retention-days", "7"),
        help="days to keep activations (0 = forever)",
    )
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StartError(ValueError):
    """A flag or file that cannot be used; the message says which and how to fix it."""


def _parse_spec(spec: str, where: str) -> Namespace:
    from localwhisk.platform.auth import parse_namespace_spec

    try:
        return parse_namespace_spec(spec)
    except ValueError as exc:  # the message names the namespace, never the key
        raise StartError(f"{where}: {exc}") from None


def read_namespaces_file(path: Path) -> list[Namespace]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise StartError(f"--namespaces-file {path}: cannot read it: {reason}") from None
    spaces = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            spaces.append(_parse_spec(line, f"--namespaces-file {path} line {number}"))
    return spaces


def namespaces_from(ns: argparse.Namespace) -> list[Namespace]:
    spaces = [Namespace(GUEST_NAMESPACE, GUEST_UUID, GUEST_KEY)]
    if ns.namespaces_file is not None:
        spaces.extend(read_namespaces_file(Path(ns.namespaces_file)))
    spaces.extend(_parse_spec(spec, "LOCALWHISK_NAMESPACES") for spec in ns.env_namespaces)
    spaces.extend(_parse_spec(spec, "--namespace") for spec in ns.namespace)
    seen: set[str] = set()
    for space in spaces:
        if space.name in seen:
            raise StartError(f"namespace {space.name!r} is given twice; keep one of them")
        seen.add(space.name)
    return spaces


def http_bounds_from(ns: argparse.Namespace) -> HttpBounds:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = ns.max_connections or default_max_connections()
    if soft != resource.RLIM_INFINITY and cap > soft - FD_RESERVE:
        raise StartError(
            f"--max-connections {cap} leaves too few of the {soft} open files the process "
            f"may have (ulimit -n); give at most {soft - FD_RESERVE} or raise the limit"
        )
    for flag, value in (
        ("--max-header-bytes", ns.max_header_bytes),
        ("--header-timeout", ns.header_timeout),
        ("--keep-alive-timeout", ns.keep_alive_timeout),
        ("--max-connections", cap),
    ):
        if value <= 0:
            raise StartError(f"{flag} must be greater than 0, got {value}")
    return HttpBounds(
        max_header_bytes=ns.max_header_bytes,
        header_timeout_s=ns.header_timeout,
        keep_alive_timeout_s=ns.keep_alive_timeout,
        max_connections=cap,
    )


def profile_from(ns: argparse.Namespace) -> Profile:
    profile = PROFILES.get(ns.profile)
    if profile is None:
        raise StartError(
            f"--profile (or {_env_flag('profile')}): no profile named {ns.profile!r}; "
            f"choose one of {', '.join(PROFILES)}"
        )
    return profile


def limits_from(ns: argparse.Namespace, profile: Profile) -> Limits:
    """The profile's limits with the limit flags that were given put over them."""
    given = {
        field: getattr(ns, flag.replace("-", "_"))
        for flag, (field, _) in LIMIT_FLAGS.items()
        if getattr(ns, flag.replace("-", "_")) is not None
    }
    limits = replace(profile.limits, **given)
    moved = {
        default: min(max(getattr(limits, default), getattr(limits, low)), getattr(limits, high))
        for default, low, high in CLAMPED_DEFAULTS
    }
    return replace(limits, **moved)


def settings_from(ns: argparse.Namespace) -> Settings:
    """Settings from parsed flags; raises ``StartError`` naming the flag to fix."""
    spaces = namespaces_from(ns)
    limits = limits_from(ns, profile_from(ns))
    try:  # validated here so that a bad value is a start-up error, not a 500 later
        OriginPolicy.of(ns.host, "", ns.allow_host, ns.allow_origin)
    except ValueError as exc:
        raise StartError(f"--allow-origin/--allow-host: {exc}") from None
    return Settings(
        host=ns.host,
        port=ns.port,
        data_dir=ns.data.resolve(),
        namespaces=tuple(spaces),
        limits=limits,
        retention_days=ns.retention_days,
        isolation=ns.isolation,
        allowed_origins=tuple(ns.allow_origin),
        allowed_hosts=tuple(ns.allow_host),
        http=http_bounds_from(ns),
    )


def secure_data_dir(data_dir: Path) -> str | None:
    """Make the data folder 0700 and the database files 0600; a warning when it may not.

    SQLite gives its -wal and -shm files the database file's mode, so creating the
    database file 0600 before the store opens it covers all three.
    """
    existed = data_dir.is_dir()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(data_dir.stat().st_mode)
    warning = None
    if mode & 0o077:
        if not existed or set(os.listdir(data_dir)) <= OWN_ENTRIES:
            os.chmod(data_dir, 0o700)
        else:
            warning = (
                f"data directory {data_dir} is open to other users (mode {mode:04o}) and holds "
                f"files that are not localwhisk's; run: chmod 700 {data_dir}"
            )
    db = data_dir / DB_NAME
    os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"):
        try:
            os.chmod(data_dir / name, 0o600)
        except FileNotFoundError:
            pass
    return warning


def warn(message: str) -> None:
    print(f"localwhisk: warning: {message}", file=sys.stderr, flush=True)


def namespaces_file_warning(path: Path | None) -> str | None:
    if path is None:
        return None
    mode = stat.S_IMODE(Path(path).stat().st_mode)
    if mode & 0o077:
        return f"--namespaces-file {path} is readable by other users (mode {mode:04o}); run: chmod 600 {path}"
    return None


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
    except StartError as exc:
        return fail(str(exc))
    if ns.namespace:
        # Only the names: the keys are what must not be shown.
        names = ", ".join(spec.split(":", 1)[0] for spec in ns.namespace)
        warn(
            f"--namespace puts keys on the command line, where every local process can read "
            f"them (/proc/PID/cmdline); move {names} to --namespaces-file FILE (mode 0600) "
            f"or LOCALWHISK_NAMESPACES"
        )
    file_warning = namespaces_file_warning(ns.namespaces_file)
    if file_warning:
        warn(file_warning)
    if not _is_loopback(settings.host) and not ns.allow_remote:
        return fail(
            f"refusing to bind {settings.host}: not a loopback address (pass --allow-remote)"
        )
    try:
        dir_warning = secure_data_dir(settings.data_dir)
    except OSError as exc:
        return fail(f"cannot use data directory {settings.data_dir}: {exc.strerror}")
    from localwhisk.runtime.sandbox import IsolationUnavailable, choose

    try:
        isolation = choose(settings.isolation)
        isolation.check_hidden(settings.data_dir)
    except IsolationUnavailable as exc:
        return fail(str(exc))
    if dir_warning:
        warn(dir_warning)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return fail(
                f"cannot listen on {settings.host}:{settings.port}: address already in use"
                " (hint: another port: --port N or LOCALWHISK_PORT=N; with make,"
                " LW_PORT=N make deploy)"
            )
        return fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}")
    port = sock.getsockname()[1]
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown_host}:{port}"
    if not _is_loopback(settings.host):
        warn(f"listening on {settings.host} without TLS; credentials travel in clear text")
    # Never silently less: the server says which containment is in force before it serves.
    print(f"localwhisk: {isolation.describe()}", file=sys.stderr, flush=True)
    from localwhisk.runtime.languages import find_node

    print(f"localwhisk: {find_node().describe()}", file=sys.stderr, flush=True)
    from localwhisk.runtime.virtualenvs import describe_all, locate_all

    for line in describe_all(locate_all()):
        print(f"localwhisk: {line}", file=sys.stderr, flush=True)
    print(
        f"localwhisk: profile {ns.profile}: {describe(settings.limits)}",
        file=sys.stderr,
        flush=True,
    )
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
