"""Day-two commands: invoke an action, fire a trigger, follow an activation id.

Each takes the CLI's ``CommandContext`` and returns an exit code (1 when the action ran and
failed); server failures are raised as ``DeployError`` for ``cli.main`` to print.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from deploy.errors import DeployError, UsageError

if TYPE_CHECKING:
    from deploy.cli import CommandContext
    from deploy.follow import Progress


def invoke(ctx: CommandContext) -> int:
    args = ctx.args
    blocking = args.blocking or args.result
    outcome = ctx.client().invoke(
        args.name, _params(args.param), blocking=blocking, result=args.result
    )
    if outcome.status == 202 and blocking:
        ctx.note(
            f"still running after the 60 s blocking wait; follow it with: "
            f"activation wait {outcome.activation_id}"
        )
    if ctx.args.json:
        ctx.emit(
            {"status": outcome.status, "activationId": outcome.activation_id, "body": outcome.body}
        )
    elif outcome.status == 202:
        ctx.say(f"activation id: {outcome.activation_id}")
        if not blocking:
            ctx.note(f"follow it with: activation wait {outcome.activation_id}")
    else:
        ctx.say(_pretty(outcome.body))
    if outcome.status in (500, 502):
        ctx.note(
            f"error: action {args.name} failed (HTTP {outcome.status}, activation "
            f"{outcome.activation_id})"
        )
        return 1
    return 0


def fire(ctx: CommandContext) -> int:
    from deploy.follow import follow_fire

    args = ctx.args
    activation_id = ctx.client().fire(args.name, _params(args.param))
    if activation_id is None:
        raise DeployError(
            f"trigger {args.name} has no active rule: nothing ran (HTTP 204); "
            "check the manifest's rules or enable the rule"
        )
    if not args.wait:
        if args.json:
            ctx.emit({"activationId": activation_id})
        else:
            ctx.say(f"trigger activation id: {activation_id}")
        return 0
    ctx.note(f"trigger activation id: {activation_id}")
    with _progress(ctx) as progress:
        results = follow_fire(
            ctx.client(), activation_id, args.timeout, progress=progress, **_time(ctx)
        )
    failed = [r for r in results if r.get("error") or r.get("success") is False]
    if args.json:
        ctx.emit({"activationId": activation_id, "rules": results})
    else:
        if not results:
            ctx.say("the trigger activation names no rule")
        for item in results:
            head = f"rule {item['rule']} → action {item['action']}"
            if item.get("error"):
                ctx.say(f"{head}: not started: {item['error']}")
            else:
                ctx.say(f"{head}: activation {item['activationId']} {item.get('status')}")
                ctx.say(_pretty(item.get("result")))
    return 1 if failed else 0


def activation(ctx: CommandContext) -> int:
    from deploy.follow import given, namespace_bound, wait_for

    args = ctx.args
    client = ctx.client()
    if args.what == "wait":
        bound = given(args.timeout) if args.timeout is not None else lambda: namespace_bound(client)
        with _progress(ctx) as progress:
            record = wait_for(client, args.id, bound, progress=progress, **_time(ctx))
        response = record.get("response") or {}
        document: Any = {"activationId": args.id, **response}
        failed = response.get("success") is False
    else:
        reader = {
            "get": client.activation,
            "result": client.activation_result,
            "logs": client.activation_logs,
        }[args.what]
        document = reader(args.id)
        if document is None:
            raise DeployError(
                f"activation {args.id} does not exist (HTTP 404) in namespace "
                f"{ctx.settings.namespace}; it may still be running, try "
                f"`activation wait {args.id}`"
            )
        failed = False
    if args.json:
        ctx.emit(document)
    elif args.what == "logs":
        lines = document.get("logs") or []
        for line in lines:
            ctx.say(line)
        if not lines:  # said on stderr: stdout stays the log lines, none of them
            ctx.note(f"(no logs: activation {args.id} wrote none)")
    else:
        ctx.say(_pretty(document))
    return 1 if failed else 0


def _params(pairs: list[list[str]]) -> dict[str, Any]:
    """``-p KEY VALUE``: VALUE is JSON when it parses (as wsk does), else a string."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        if not key:
            raise UsageError("-p needs a non-empty KEY: expected -p KEY VALUE")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


# Off a terminal (a CI log, a file), progress is a line of its own this often: a wait of
# hours says it is alive without filling the log.
LOG_EVERY_S = 60.0


@contextmanager
def _progress(ctx: CommandContext) -> Iterator[Progress]:
    """Progress on stderr: on a terminal one line rewritten in place (ended on the way out,
    so what is printed next starts on a line of its own); otherwise the first report and
    then one line a minute."""
    if not ctx.tty():
        last: list[float] = []

        def log(text: str) -> None:
            now = ctx.clock()
            if not last or now - last[0] >= LOG_EVERY_S:
                last[:] = [now]
                print(ctx.mask(text), file=ctx.err, flush=True)

        yield log
        return
    shown = False

    def rewrite(text: str) -> None:
        nonlocal shown
        shown = True
        # \033[K clears what a longer line before this one left on the right
        print(f"\r{ctx.mask(text)}\033[K", end="", file=ctx.err, flush=True)

    try:
        yield rewrite
    finally:
        if shown:
            print(file=ctx.err)


def _time(ctx: CommandContext) -> dict[str, Any]:
    """The injected clock and sleep, as ``follow``'s waiting functions take them."""
    return {"sleep": ctx.sleep, "clock": ctx.clock}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
