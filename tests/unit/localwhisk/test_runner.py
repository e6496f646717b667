"""The runner against real launcher processes: outcomes, logs, environment, limits, pool.

These run without a sandbox (``Isolation("none")``) so that pids seen by an action are
the host's; the same behaviours inside bubblewrap are in ``test_runner_sandbox.py``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import shutil
import textwrap
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from localwhisk.models import APPLICATION_ERROR, DEVELOPER_ERROR, SUCCESS
from localwhisk.runtime import launcher, outcomes
from localwhisk.runtime.contract import CodeSpec, RunJob, RunOutcome
from localwhisk.runtime.runner import Runner
from localwhisk.runtime.sandbox import Isolation

NO_SANDBOX = Isolation("none")

DID_NOT_RUN = "The action did not initialize or run as expected. Log data might be missing."
# The ActionLoop proxy's words (apache/openwhisk-runtime-go openwhisk/runHandler.go,
# initHandler.go, executor.go), which the Python runtime answers with.
EXITED = "command exited"
NO_BINARY = "The action failed to generate or locate a binary. See logs for details."
START_FAILED = "Cannot start action. Check logs for details."
EXITED_DURING_INIT = "Command exited abruptly during initialization."
LOG_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr): (.*)$")

PID_ACTION = """
import os


def main(args):
    return {"pid": os.getpid()}
"""


def spec(code: str, *, action: str = "/guest/t", revision: str = "1", **kw) -> CodeSpec:
    return CodeSpec(
        action=action,
        revision=revision,
        kind=kw.pop("kind", "python:3.11"),
        code=textwrap.dedent(code) if not kw.get("binary") else code,
        binary=kw.pop("binary", False),
        **kw,
    )


def job(
    code: CodeSpec,
    params: dict | None = None,
    *,
    timeout_ms: int = 5000,
    memory_mb: int = 256,
    logs_mb: int = 10,
    context: dict | None = None,
) -> RunJob:
    ctx = {
        "namespace": "guest",
        "action_name": code.action,
        "action_version": "0.0.1",
        "activation_id": "a" * 32,
        "transaction_id": "tid",
        "deadline": "1700000060000",
    }
    return RunJob(
        code=code,
        params=params or {},
        context=ctx if context is None else context,
        timeout_ms=timeout_ms,
        memory_mb=memory_mb,
        logs_mb=logs_mb,
        api_host="http://127.0.0.1:3233",
    )


def with_runner(tmp_path: Path, body: Callable[[Runner], Awaitable[object]], **kw) -> object:
    async def go() -> object:
        runner = Runner(tmp_path, **{"isolation": NO_SANDBOX, **kw})
        try:
            return await body(runner)
        finally:
            await runner.close()

    return asyncio.run(go())


def run_one(tmp_path: Path, j: RunJob, **kw) -> RunOutcome:
    return with_runner(tmp_path, lambda r: r.run(j), **kw)


def messages(outcome: RunOutcome, stream: str | None = None) -> list[str]:
    found = []
    for line in outcome.logs:
        match = LOG_RE.match(line)
        assert match, f"bad log line {line!r}"
        if stream in (None, match.group(1)):
            found.append(match.group(2))
    return found


def zipped(files: dict[str, str]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    return base64.b64encode(buf.getvalue()).decode()


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")  # a zombie is dead too
    except FileNotFoundError:
        return True


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def test_success_with_logs_and_size(tmp_path: Path) -> None:
    code = spec("""
        import sys
        def main(args):
            print("to out", args["name"])
            print("to err", file=sys.stderr)
            return {"greeting": "héllo " + args["name"]}
    """)
    outcome = run_one(tmp_path, job(code, {"name": "Ann"}))
    assert outcome.status == SUCCESS
    assert outcome.result == {"greeting": "héllo Ann"}
    assert outcome.size == len('{"greeting": "héllo Ann"}'.encode())
    assert messages(outcome, "stdout") == ["to out Ann"]
    assert messages(outcome, "stderr") == ["to err"]
    assert all(len(line.split(" ")[0]) == 30 for line in outcome.logs)
    assert outcome.init_ms is not None and outcome.wait_ms == 0
    assert outcome.start_ms <= outcome.end_ms and not outcome.timed_out


def test_list_result_is_success(tmp_path: Path) -> None:
    outcome = run_one(tmp_path, job(spec("def main(args):\n    return [1, 2]\n")))
    assert (outcome.status, outcome.result) == (SUCCESS, [1, 2])


def test_exception_is_application_error_with_traceback_and_stays_warm(tmp_path: Path) -> None:
    code = spec("""
        import os
        def main(args):
            if args.get("fail"):
                raise ValueError("boom")
            return {"pid": os.getpid()}
    """)

    async def body(r: Runner) -> tuple:
        first = await r.run(job(code))
        failed = await r.run(job(code, {"fail": True}))
        again = await r.run(job(code))
        return first, failed, again

    first, failed, again = with_runner(tmp_path, body)
    assert failed.status == APPLICATION_ERROR
    assert failed.result == {"error": "boom"}
    err = messages(failed, "stderr")
    assert err[0] == "Traceback (most recent call last):"
    assert "ValueError: boom" in err
    assert DID_NOT_RUN not in err
    assert again.result["pid"] == first.result["pid"]
    assert failed.init_ms is None


def test_error_key_is_application_error(tmp_path: Path) -> None:
    outcome = run_one(tmp_path, job(spec("def main(args):\n    return {'error': 'nope'}\n")))
    assert (outcome.status, outcome.result) == (APPLICATION_ERROR, {"error": "nope"})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("return 'a string'", "The action did not return a dictionary or array."),
        ("return None", "The action did not return a dictionary or array."),
        ("sys.exit(3)", EXITED),
        ("os._exit(0)", EXITED),
        ("ctypes.string_at(0)", EXITED),
        ("os.close(3); return {}", EXITED),
        (
            "os.write(3, b'garbage\\n'); return {}",
            "The action did not produce a valid JSON or JSON Array response: garbage",
        ),
    ],
    ids=["string", "none", "sys.exit", "os._exit", "segfault", "close-fd3", "garbage-fd3"],
)
def test_misbehaviour_is_developer_error_and_discards_process(
    tmp_path: Path, body: str, error: str
) -> None:
    bad = spec(f"""
        import ctypes, os, sys
        def main(args):
            print("before")
            if args.get("bad"):
                {body}
            return {{"pid": os.getpid()}}
    """)

    async def go(r: Runner) -> tuple:
        first = await r.run(job(bad))
        failed = await r.run(job(bad, {"bad": True}))
        after = await r.run(job(bad))
        return first, failed, after

    first, failed, after = with_runner(tmp_path, go)
    assert failed.status == DEVELOPER_ERROR
    assert failed.result == {"error": error}
    assert messages(failed)[-1] == DID_NOT_RUN
    assert "before" in messages(failed, "stdout")
    assert after.status == SUCCESS
    assert after.result["pid"] != first.result["pid"]
    assert gone(first.result["pid"])


def test_timeout_kills_and_next_invoke_gets_a_fresh_process(tmp_path: Path) -> None:
    code = spec("""
        import os, time
        def main(args):
            if args.get("sleep"):
                print("sleeping")
                time.sleep(30)
            return {"pid": os.getpid()}
    """)

    async def go(r: Runner) -> tuple:
        first = await r.run(job(code))
        slow = await r.run(job(code, {"sleep": True}, timeout_ms=300))
        after = await r.run(job(code))
        return first, slow, after

    first, slow, after = with_runner(tmp_path, go)
    assert slow.status == DEVELOPER_ERROR and slow.timed_out
    assert slow.result == {"error": "The action exceeded its time limits of 300 milliseconds."}
    assert 250 <= slow.end_ms - slow.start_ms < 3000
    assert messages(slow) == ["sleeping", DID_NOT_RUN]
    assert after.status == SUCCESS and after.result["pid"] != first.result["pid"]


def test_endless_loop_times_out(tmp_path: Path) -> None:
    outcome = run_one(
        tmp_path, job(spec("def main(args):\n    while True:\n        pass\n"), timeout_ms=300)
    )
    assert outcome.timed_out and outcome.status == DEVELOPER_ERROR


def test_timeout_kills_forked_grandchildren(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    code = spec("""
        import os, time
        def main(args):
            child = os.fork()
            if child == 0:
                time.sleep(1000)
                os._exit(0)
            open(args["pid_file"], "w").write(str(child))
            time.sleep(1000)
    """)

    async def go(r: Runner) -> tuple:
        outcome = await r.run(job(code, {"pid_file": str(pid_file)}, timeout_ms=500))
        grandchild = int(pid_file.read_text())
        return outcome, await until(lambda: gone(grandchild))

    outcome, grandchild_gone = with_runner(tmp_path, go)
    assert outcome.timed_out
    assert grandchild_gone


def test_init_timeout_says_during_initialization(tmp_path: Path) -> None:
    code = spec("import time\ntime.sleep(30)\ndef main(args):\n    return {}\n")
    outcome = run_one(tmp_path, job(code, timeout_ms=300))
    assert outcome.timed_out and outcome.init_ms is not None
    assert outcome.result == {
        "error": "The action exceeded its time limits of 300 milliseconds during initialization."
    }


def test_memory_limit(tmp_path: Path) -> None:
    code = spec("""
        import os
        import requests  # what the OpenWhisk images ship must fit in the smallest limit
        def main(args):
            if args.get("hog"):
                hog = bytearray(300 * 1024 * 1024)
                return {"len": len(hog)}
            return {"pid": os.getpid()}
    """)

    async def go(r: Runner) -> tuple:
        small = await r.run(job(code, memory_mb=128))
        hog = await r.run(job(code, {"hog": True}, memory_mb=128))
        after = await r.run(job(code, memory_mb=128))
        return small, hog, after

    small, hog, after = with_runner(tmp_path, go)
    assert small.status == SUCCESS
    assert hog.status == DEVELOPER_ERROR
    assert hog.result == {"error": "The action exhausted its memory and was aborted."}
    assert after.status == SUCCESS and after.result["pid"] != small.result["pid"]


def test_log_limit_truncates_but_action_completes(tmp_path: Path) -> None:
    code = spec("""
        def main(args):
            for i in range(1500):
                print("x" * 999)
            return {"done": True}
    """)
    outcome = run_one(tmp_path, job(code, logs_mb=1))
    assert outcome.status == SUCCESS
    assert messages(outcome)[-1] == (
        "Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes."
    )
    assert len(outcome.logs) - 1 == 1048576 // 999
    zero = run_one(tmp_path, job(code, logs_mb=0))
    assert messages(zero) == [
        "Logs were truncated because the total bytes size exceeds the limit of 0 bytes."
    ]


def test_large_result_is_application_error(tmp_path: Path) -> None:
    code = spec("def main(args):\n    return {'big': 'y' * (2 * 1024 * 1024)}\n")
    outcome = run_one(tmp_path, job(code))
    assert outcome.status == APPLICATION_ERROR
    message = outcome.result["error"]
    size = len('{"big": ""}') + 2 * 1024 * 1024
    assert message.startswith(
        f"The action produced a response that exceeded the allowed length: {size} > 1048576 bytes."
        ' The truncated response was: {"big": "yyy'
    )
    assert len(message) < 2000


def test_ow_environment_and_api_key_only_when_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALWHISK_TEST_SECRET", "server-only")
    code = spec(
        """
        import os
        def main(args):
            return {k: v for k, v in os.environ.items() if k.startswith("__OW_") or k in ("LOCALWHISK_TEST_SECRET", "MY_INIT")}
        """,
        init_env={"MY_INIT": "from-init"},
    )
    with_key = job(
        code,
        context={
            "namespace": "guest",
            "action_name": "/guest/t",
            "activation_id": "b" * 32,
            "deadline": "123",
            "api_key": "uuid:key",
        },
    )

    async def go(r: Runner) -> tuple:
        return await r.run(with_key), await r.run(job(code))

    keyed, plain = with_runner(tmp_path, go)
    assert keyed.result["__OW_API_KEY"] == "uuid:key"
    assert keyed.result["__OW_API_HOST"] == "http://127.0.0.1:3233"
    assert keyed.result["__OW_ACTIVATION_ID"] == "b" * 32
    assert keyed.result["__OW_DEADLINE"] == "123"
    assert keyed.result["MY_INIT"] == "from-init"
    assert "LOCALWHISK_TEST_SECRET" not in keyed.result
    assert "__OW_API_KEY" not in plain.result
    assert plain.result["__OW_NAMESPACE"] == "guest"
    assert plain.result["__OW_ACTION_NAME"] == "/guest/t"
    assert plain.result["__OW_TRANSACTION_ID"] == "tid"


def test_reading_stdin_does_not_break_the_protocol(tmp_path: Path) -> None:
    code = spec("""
        import os, sys
        def main(args):
            return {"read": sys.stdin.read(), "pid": os.getpid()}
    """)

    async def go(r: Runner) -> tuple:
        return await r.run(job(code)), await r.run(job(code))

    first, second = with_runner(tmp_path, go)
    assert first.result["read"] == "" and second.status == SUCCESS
    assert first.result["pid"] == second.result["pid"]


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (spec("def main(args)\n    return {}\n"), "SyntaxError: "),
        (
            spec(zipped({"other.py": "x = 1\n"}), binary=True),
            "Zip file does not include __main__.py.",
        ),
        (
            spec(
                zipped({"__main__.py": "def main(a):\n    return {}\n", "../evil.py": ""}),
                binary=True,
            ),
            "Invalid zip file: entry '../evil.py' points outside the action folder.",
        ),
        (
            spec(
                zipped({"__main__.py": "def main(a):\n    return {}\n", "virtualenv/README": ""}),
                binary=True,
            ),
            "Invalid virtualenv. Zip file does not include 'activate_this.py'.",
        ),
        (spec(base64.b64encode(b"not a zip").decode(), binary=True), "Invalid zip file: "),
    ],
    ids=["syntax", "zip-no-main", "zip-slip", "bad-virtualenv", "not-a-zip"],
)
def test_build_failures_say_see_logs_and_log_the_cause(
    tmp_path: Path, code: CodeSpec, cause: str
) -> None:
    """What the runtime's compile step rejects: its answer, the cause in the logs."""
    outcome = run_one(tmp_path, job(code))
    assert (outcome.status, outcome.result) == (DEVELOPER_ERROR, {"error": NO_BINARY})
    assert outcome.init_ms is not None
    logs = messages(outcome, "stderr")
    assert logs[-1] == DID_NOT_RUN
    assert any(line.startswith(cause) for line in logs), logs
    assert not (tmp_path / "evil.py").exists()


@pytest.mark.parametrize(
    ("code", "logged"),
    [
        (
            spec("import no_such_module_here\ndef main(args):\n    return {}\n"),
            [
                "Traceback (most recent call last):",
                'File "{main}", line 1, in <module>',
                "import no_such_module_here",
                "ModuleNotFoundError: No module named 'no_such_module_here'",
            ],
        ),
        (
            spec(
                "def boom():\n    raise ValueError('no')\nboom()\ndef main(args):\n    return {}\n"
            ),
            [
                "Traceback (most recent call last):",
                'File "{main}", line 3, in <module>',
                "boom()",
                'File "{main}", line 2, in boom',
                "raise ValueError('no')",
                "ValueError: no",
            ],
        ),
        (spec("import sys\nsys.exit(1)\n"), []),
        (spec("import sys\nsys.exit('bye')\n"), ["bye"]),
        (spec("import os\nos._exit(0)\n"), []),
        (
            spec("def handler(args):\n    return {}\n"),
            ["The function 'main' is not defined in __main__.py."],
        ),
    ],
    ids=["import", "raise", "sys.exit", "sys.exit-text", "os._exit", "no-main"],
)
def test_load_failures_cannot_start_and_log_only_the_users_traceback(
    tmp_path: Path, code: CodeSpec, logged: list[str]
) -> None:
    """What fails while the module runs: the proxy's answer and line after the user's
    own output, which holds no frame of the launcher or of importlib."""
    outcome = run_one(tmp_path, job(code), prewarm=0)
    assert (outcome.status, outcome.result) == (DEVELOPER_ERROR, {"error": START_FAILED})
    logs = messages(outcome, "stderr")
    main = r"/\S+/code/[0-9a-f]+/__main__\.py"  # the revision's folder, gone with the runner
    expected = [re.escape(line).replace(re.escape("{main}"), main) for line in logged]
    expected += [re.escape(EXITED_DURING_INIT), re.escape(DID_NOT_RUN)]
    assert len(logs) == len(expected), logs
    assert all(re.fullmatch(want, got) for want, got in zip(expected, logs, strict=True)), logs


def test_the_launcher_words_a_failed_build_as_the_platform_does() -> None:
    # launcher.py cannot import localwhisk, so it keeps its own copy of the text.
    assert launcher.NO_BINARY == outcomes.NO_BINARY == NO_BINARY


def test_zip_with_package_and_custom_main(tmp_path: Path) -> None:
    code = spec(
        zipped(
            {
                "__main__.py": "from helpers.text import shout\ndef handler(args):\n    return {'msg': shout(args['w'])}\n",
                "helpers/__init__.py": "",
                "helpers/text.py": "def shout(w):\n    return w.upper() + open('data.txt').read()\n",
                "data.txt": "!",
            }
        ),
        binary=True,
        main="handler",
    )
    outcome = run_one(tmp_path, job(code, {"w": "hi"}), prewarm=0)
    assert (outcome.status, outcome.result) == (SUCCESS, {"msg": "HI!"})


def test_warm_reuse_and_new_revision_gets_new_process(tmp_path: Path) -> None:
    v1 = spec(PID_ACTION, revision="1")
    v2 = spec(PID_ACTION.replace('"pid"', '"pid2"'), revision="2")

    async def go(r: Runner) -> tuple:
        a = await r.run(job(v1))
        b = await r.run(job(v1))
        c = await r.run(job(v2))
        old_retired = await until(lambda: gone(a.result["pid"]))
        code_folders = list(tmp_path.glob("*/code/*"))
        one_folder = await until(lambda: len(list(tmp_path.glob("*/code/*"))) == 1)
        return a, b, c, old_retired, code_folders, one_folder

    a, b, c, old_retired, code_folders, one_folder = with_runner(tmp_path, go)
    assert a.init_ms is not None and b.init_ms is None
    assert a.result["pid"] == b.result["pid"]
    assert c.result["pid2"] != a.result["pid"] and c.init_ms is not None
    assert old_retired
    assert code_folders and one_folder  # the retired revision's code folder is removed


def test_queueing_beyond_max_per_action(tmp_path: Path) -> None:
    code = spec("""
        import os, time
        def main(args):
            time.sleep(0.3)
            return {"pid": os.getpid()}
    """)

    async def go(r: Runner) -> list[RunOutcome]:
        await r.run(job(code))  # warm up so the measured wait is the queue, not a cold start
        return list(await asyncio.gather(*(r.run(job(code)) for _ in range(3))))

    outcomes = with_runner(tmp_path, go, max_per_action=1)
    assert len({o.result["pid"] for o in outcomes}) == 1
    waits = sorted(o.wait_ms for o in outcomes)
    assert waits[0] < 100 and 250 <= waits[1] < 1000 and 550 <= waits[2] < 1500


def test_two_processes_run_in_parallel_up_to_the_limit(tmp_path: Path) -> None:
    code = spec("""
        import os, time
        def main(args):
            time.sleep(0.3)
            return {"pid": os.getpid()}
    """)

    async def go(r: Runner) -> list[RunOutcome]:
        return list(await asyncio.gather(*(r.run(job(code)) for _ in range(2))))

    outcomes = with_runner(tmp_path, go, max_per_action=2, prewarm=2)
    assert len({o.result["pid"] for o in outcomes}) == 2
    assert all(o.wait_ms < 200 for o in outcomes)


def test_idle_processes_are_retired(tmp_path: Path) -> None:
    code = spec(PID_ACTION)

    async def go(r: Runner) -> tuple:
        first = await r.run(job(code))
        retired = await until(lambda: gone(first.result["pid"]))
        second = await r.run(job(code))
        return first, retired, second

    first, retired, second = with_runner(tmp_path, go, idle_seconds=0.2)
    assert retired and second.result["pid"] != first.result["pid"]


def test_a_stored_only_kind_is_a_developer_error_naming_what_runs(tmp_path: Path) -> None:
    code = spec("func main() {}", kind="go:1.20")

    async def go(r: Runner) -> tuple:
        return r.can_run("go:1.20"), r.can_run("nodejs:20"), await r.run(job(code))

    can_go, can_node, outcome = with_runner(tmp_path, go)
    assert (can_go, can_node) == (False, True)
    assert outcome.status == DEVELOPER_ERROR
    assert outcome.result == {
        "error": "The action kind 'go:1.20' cannot run on this local server; it runs python:3, python:3.9, python:3.10, python:3.11, python:3.12, python:default, nodejs:18, nodejs:20, nodejs:22 and nodejs:default."
    }


def test_close_kills_children_and_is_idempotent(tmp_path: Path) -> None:
    async def go() -> tuple:
        runner = Runner(tmp_path, isolation=NO_SANDBOX)
        outcome = await runner.run(job(spec(PID_ACTION)))
        await runner.close()
        await runner.close()
        after = await runner.run(job(spec(PID_ACTION)))
        return outcome.result["pid"], after

    pid, after = asyncio.run(go())
    assert gone(pid)
    assert after.status == "whisk internal error"
    assert list(tmp_path.iterdir()) == []


def test_zip_virtualenv_is_activated(tmp_path: Path) -> None:
    code = spec(
        zipped(
            {
                "__main__.py": "import vendored\ndef main(args):\n    return {'v': vendored.VALUE}\n",
                # What the runtime's launcher relies on: activate_this.py puts the environment's
                # site-packages on sys.path itself (the launcher adds nothing of its own).
                "virtualenv/bin/activate_this.py": (
                    "import os, site\nos.environ['ACTIVATED'] = 'yes'\n"
                    "base = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n"
                    "site.addsitedir(os.path.join(base, 'lib', 'python3.11', 'site-packages'))\n"
                ),
                "virtualenv/lib/python3.11/site-packages/vendored.py": "import os\nVALUE = os.environ['ACTIVATED']\n",
            }
        ),
        binary=True,
    )
    outcome = run_one(tmp_path, job(code))
    assert (outcome.status, outcome.result) == (SUCCESS, {"v": "yes"})


def test_output_without_final_newline_is_kept_and_next_run_is_not_delayed(tmp_path: Path) -> None:
    code = spec("""
        import sys
        def main(args):
            print("partial", end="")
            sys.stderr.write("err-partial")
            return {}
    """)

    async def go(r: Runner) -> list[RunOutcome]:
        return [await r.run(job(code)) for _ in range(2)]

    first, second = with_runner(tmp_path, go)
    assert messages(first) == ["partial", "err-partial"] or messages(first) == [
        "err-partial",
        "partial",
    ]
    assert messages(second, "stdout") == ["partial"]
    assert second.end_ms - second.start_ms < 1000


def test_max_total_evicts_the_least_recently_used_idle_process(tmp_path: Path) -> None:
    a = spec(PID_ACTION, action="/guest/a")
    b = spec(PID_ACTION, action="/guest/b")

    async def go(r: Runner) -> tuple:
        first = await r.run(job(a))
        other = await r.run(job(b))
        evicted = await until(lambda: gone(first.result["pid"]))
        return first, other, evicted

    first, other, evicted = with_runner(tmp_path, go, max_total=1)
    assert other.status == SUCCESS and evicted


def test_runs_on_uvloop_like_the_server(tmp_path: Path) -> None:
    uvloop = pytest.importorskip("uvloop")
    code = spec("""
        import os, time
        def main(args):
            if args.get("crash"):
                os._exit(1)
            if args.get("hang"):
                time.sleep(30)
            print("hi")
            return {"pid": os.getpid()}
    """)

    async def go() -> list[RunOutcome]:
        runner = Runner(tmp_path, isolation=NO_SANDBOX)
        try:
            return [
                await runner.run(job(code, params, timeout_ms=300))
                for params in ({}, {}, {"crash": True}, {"hang": True}, {})
            ]
        finally:
            await runner.close()

    ok, warm, crash, hang, fresh = uvloop.run(go())
    assert ok.result == warm.result and messages(warm) == ["hi"]
    assert crash.result == {"error": EXITED}
    assert hang.timed_out
    assert fresh.status == SUCCESS and fresh.result != ok.result


def test_action_closing_its_stdout_does_not_hang_or_poison_the_next_run(tmp_path: Path) -> None:
    code = spec("""
        import os
        def main(args):
            if args.get("close"):
                os.close(1)
            return {"pid": os.getpid()}
    """)

    async def go(r: Runner) -> tuple:
        closed = await r.run(job(code, {"close": True}))
        after = await r.run(job(code))
        return closed, after

    closed, after = with_runner(tmp_path, go)
    assert closed.end_ms - closed.start_ms < 1500
    assert after.status == SUCCESS


def test_a_relative_work_dir_still_runs_actions(tmp_path, monkeypatch):
    # `make up` passes --data .localwhisk/data; children run with their code folder as cwd.
    monkeypatch.chdir(tmp_path)

    async def go(runner: Runner) -> RunOutcome:
        return await runner.run(job(spec(PID_ACTION)))

    outcome = with_runner(Path("relative-work"), go)
    assert outcome.status == SUCCESS, outcome.result


def test_actions_run_below_the_server_in_cpu_priority(tmp_path):
    import os

    code = spec("import os\n\ndef main(args):\n    return {'nice': os.nice(0)}\n")
    outcome = run_one(tmp_path, job(code))
    assert outcome.result == {"nice": min(19, os.nice(0) + 10)}  # 19 is the ceiling


NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="needs node on PATH: Node.js NOT tested")


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        pytest.param(
            "python:3.11",
            """
            import os
            def main(args):
                if args.get("forge"):
                    os.write(3, b'{"forged": 1}\\n')
                return {"real": args["n"]}
            """,
            id="python",
        ),
        pytest.param(
            "nodejs:20",
            """
            function main(args) {
                if (args.forge) require('fs').writeSync(3, '{"forged": 1}\\n');
                return {real: args.n};
            }
            """,
            id="nodejs",
            marks=needs_node,
        ),
    ],
)
def test_a_line_the_action_writes_to_fd3_itself_never_answers_a_later_activation(
    tmp_path: Path, kind: str, code: str
) -> None:
    """The forged line answers its own activation (the action chose it); the launcher's own
    reply behind it must not become the next activation's result: the process is replaced."""
    forging = spec(code, kind=kind)

    async def go(r: Runner) -> list:
        outcomes = []
        for n in (1, 2, 3):
            outcomes.append(await r.run(job(forging, {"n": n, "forge": n == 1})))
            if n == 1:
                # The launcher's own reply follows its sentinels: back to back, as no HTTP
                # caller is, the next run could come first (ChildIO.out_of_step).
                assert await until(lambda: all(e.proc.out_of_step() for e in r._pool._idle))
        return outcomes

    outcomes = with_runner(tmp_path, go)
    assert [o.result for o in outcomes] == [{"forged": 1}, {"real": 2}, {"real": 3}]
