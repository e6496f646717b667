"""``python -m deploy <command>``: argparse commands; the only place that prints errors and exits.

Wires the stages (settings → manifest → bundle → state → plan → preflight → apply)
and prints through ``mask`` so the key never reaches a terminal or log. Commands
raise ``DeployError``; ``main`` turns it into ``error: <message>`` and its exit code
(0 ok, 1 failed against the server, 2 bad input; 141 when the reader closed the
pipe, as for any Unix tool). Anything else is a bug: its traceback is printed,
masked. Heavy modules are imported inside the commands so ``--help`` stays fast.
Each command is ``f(ctx: CommandContext) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from deploy.errors import DeployError

if TYPE_CHECKING:
    from pathlib import Path

    from deploy.http.client import OpenWhiskClient
    from deploy.settings import Settings


@dataclass
class CommandContext:
    """Everything a command needs from outside: injected by tests, real by default."""

    args: argparse.Namespace
    environ: Mapping[str, str]
    home: Path | None
    out: TextIO
    err: TextIO
    session: Any = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    settings: Settings | None = None
    manifest_namespace: str | None = None  # set by commands once the manifest is read
    deployment_namespace: str | None = None  # likewise, from a deployment file
    _client: OpenWhiskClient | None = field(default=None, repr=False)
    # (settings, forms of every key): every printed line is masked, and a 200-action deploy
    # prints 600 lines; the keys change only when settings are resolved: gathered once.
    _keys: tuple[Any, tuple[str, ...]] | None = field(default=None, repr=False)

    def mask(self, text: str) -> str:
        """Hide the resolved key and any key offered by flags or environment (even unused)."""
        # lazily: settings imports pathlib, which --help does not need
        from deploy.settings import mask_secrets, offered_keys

        if self._keys is None or self._keys[0] is not self.settings:
            flag = getattr(self.args, "auth", None)
            self._keys = (self.settings, offered_keys(self.environ, flag, self.settings))

        return mask_secrets(text, self._keys[1])

    def say(self, text: str) -> None:
        """Human output: stdout, or stderr when stdout carries the --json document."""
        print(self.mask(text), file=self.err if self.args.json else self.out)

    def note(self, text: str) -> None:
        print(self.mask(text), file=self.err)

    def emit(self, document: Any) -> None:
        print(self.mask(json.dumps(document, indent=2, sort_keys=True)), file=self.out)

    def resolve(self) -> Settings:
        if self.settings is None:
            from deploy.settings import resolve_settings

            flags = {k: getattr(self.args, k) for k in ("apihost", "auth", "namespace")}
            self.settings = resolve_settings(
                flags, self.environ, self.home, self.manifest_namespace, self.deployment_namespace
            )
            self.note(f"target: {self.settings.describe()}")
            for warning in self.settings.warnings:
                self.note(f"warning: {warning}")
        return self.settings

    def client(self) -> OpenWhiskClient:
        if self._client is None:
            from deploy.http.client import OpenWhiskClient

            self._client = OpenWhiskClient(self.resolve(), session=self.session, sleep=self.sleep)
        return self._client

    def request_count(self) -> int | None:
        """HTTP attempts so far, or None when no command has needed the server."""
        return None if self._client is None else self._client.request_count

    def tty(self) -> bool:
        return bool(getattr(self.err, "isatty", lambda: False)())


def main(
    argv: list[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    session: Any = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> int:
    parser = build_parser()
    environ = os.environ if environ is None else environ
    try:
        args = _parse(parser, argv, environ)
    except SystemExit as exc:  # --help (0) or a usage error (2): argparse already printed
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if home is None:
        from pathlib import Path

        home = Path.home()
    ctx = CommandContext(
        args,
        environ,
        home,
        sys.stdout,
        sys.stderr,
        session,
        sleep or time.sleep,
        clock or time.monotonic,
    )
    try:
        code = _run(ctx)
        # A pipe buffers the output until exit, where a closed reader would be reported by
        # the interpreter (exit 120): flush here, where it can still be handled.
        ctx.out.flush()
        return code
    except BrokenPipeError:
        return _reader_gone()


def _run(ctx: CommandContext) -> int:
    """The command, with every error it raises turned into a message and an exit code."""
    args = ctx.args
    try:
        module, _, function = args.handler.partition(":")
        return getattr(importlib.import_module(f"deploy.{module}"), function)(ctx)
    except BrokenPipeError:
        raise  # not a bug: whoever read the output stopped (`| head -1`); main ends quietly
    except DeployError as exc:
        print(f"error: {ctx.mask(str(exc))}", file=sys.stderr)
        if args.json:
            ctx.emit({"ok": False, "error": str(exc), "exitCode": exc.exit_code})
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: keep the traceback, but never with the key in it
        import traceback

        print(ctx.mask(traceback.format_exc()), file=sys.stderr, end="")
        print(
            "error: this is a bug in the deploy tool; please report it with the traceback above",
            file=sys.stderr,
        )
        return 1


# What a shell reports for a tool that SIGPIPE ended: 128 + the signal's number (13).
SIGPIPE_EXIT = 141


def _reader_gone() -> int:
    """The reader closed the pipe: stop without a word, as ``cat`` or ``grep`` would.

    Python ignores SIGPIPE, so the write raised instead of ending the process; stdout is
    pointed at /dev/null so the interpreter's flush at exit cannot raise a second time.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests pass StringIO)
        pass
    return SIGPIPE_EXIT


# An OpenWhisk key: a uuid, a colon, 64 letters and digits (and its secret half alone).
_KEY_SHAPED = r"[0-9a-fA-F-]{36}:[A-Za-z0-9]{64}|\b[A-Za-z0-9]{64}\b"


def _parse(
    parser: argparse.ArgumentParser, argv: list[str] | None, environ: Mapping[str, str]
) -> argparse.Namespace:
    """``parse_args``, with its error text masked: argparse echoes what it cannot parse,
    and a key pasted in the wrong place (``deploy <key>``) would come back verbatim."""
    import contextlib
    import io
    import re

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return parser.parse_args(argv)
    finally:
        if text := err.getvalue():
            from deploy.settings import mask_secrets, offered_keys

            sys.stderr.write(re.sub(_KEY_SHAPED, "***", mask_secrets(text, offered_keys(environ))))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="owdeploy",
        description="Deploy a wskdeploy-format manifest to Apache OpenWhisk / "
        "Adobe I/O Runtime, plan first, undeploy exactly what was deployed.",
    )
    _add_globals(parser, None)
    common = argparse.ArgumentParser(add_help=False)
    _add_globals(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # Handlers are "module:function" strings, imported only for the command that runs.
    def command(name: str, handler: str, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    command(
        "validate", "commands:validate", "check the manifest and build every action (no server)"
    )
    p = command(
        "plan",
        "commands:plan",
        "show what deploy would create, update and delete (exit 2 where deploy would refuse)",
    )
    _add_force(p, "plan the take-over of")
    _add_npm_scripts(p)
    p = command("deploy", "commands:deploy", "plan, then apply, then print the web action URLs")
    p.add_argument(
        "--parallelism",
        type=_parallelism,
        default=16,  # apply.PARALLELISM; a literal so --help does not import the thread pool
        metavar="N",
        help="requests in flight within one level (1-32, default 16)",
    )
    _add_force(p, "take over")
    _add_npm_scripts(p)
    command("undeploy", "commands:undeploy", "delete every entity this project deployed")
    command("urls", "commands:urls", "print the web action URLs and curl lines")
    p = command("target", "commands:target", "print apihost, namespace and where they come from")
    p.add_argument(
        "--is-local-default",
        action="store_true",
        help="exit 0 iff no credentials are configured (the local server is the target)",
    )
    p = command("invoke", "daytwo:invoke", "invoke an action")
    p.add_argument("name")
    _add_params(p)
    p.add_argument(
        "--blocking",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="wait for the result (up to 60 s; default: no, print the activation id)",
    )
    p.add_argument(
        "--result", action="store_true", help="print only the result (implies --blocking)"
    )
    p = command("fire", "daytwo:fire", "fire a trigger and print its activation id")
    p.add_argument("name")
    _add_params(p)
    p.add_argument(
        "--wait",
        action="store_true",
        help="follow each rule to its action's activation and print the results",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="how long --wait waits in all (default: each action's own time limit + 60 s)",
    )
    p = command("activation", "daytwo:activation", "get, result, logs or wait for an activation")
    p.add_argument("what", choices=["get", "result", "logs", "wait"])
    p.add_argument("id")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="how long wait polls before giving up (default: the longest time limit "
        "among the namespace's actions + 60 s; a running activation names no action)",
    )
    return parser


def _add_globals(parser: argparse.ArgumentParser, default: Any) -> None:
    def value(v: Any) -> Any:
        return argparse.SUPPRESS if default is argparse.SUPPRESS else v

    parser.add_argument(
        "-m",
        "--manifest",
        default=value("manifest.yaml"),
        help="manifest file or folder (default manifest.yaml)",
    )
    parser.add_argument(
        "-d",
        "--deployment",
        default=value(None),
        help="deployment file (default: deployment.yaml or .yml beside the manifest, if any)",
    )
    parser.add_argument(
        "--projectname",
        default=value(None),
        help="project name when the manifest has no project.name (as wskdeploy's)",
    )
    parser.add_argument("--apihost", default=value(None), help="OpenWhisk API host")
    parser.add_argument(
        "--auth", default=value(None), help="API key uuid:secret (prefer WHISK_AUTH)"
    )
    parser.add_argument(
        "--namespace", default=value(None), help="namespace (default: the key's own)"
    )
    parser.add_argument(
        "--json", action="store_true", default=value(False), help="one JSON document on stdout"
    )
    parser.add_argument("-v", "--verbose", action="store_true", default=value(False))


def _add_force(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help=f"{verb} same-named entities owned by another project or by none",
    )


def _add_npm_scripts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-npm-scripts",
        action="store_true",
        help="run the install scripts of Node.js actions' dependencies on this machine"
        " (default: npm ci --ignore-scripts)",
    )


def _parallelism(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 32:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 32, got {text!r}")
    return value


def _add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="a parameter; VALUE is JSON if it parses",
    )
