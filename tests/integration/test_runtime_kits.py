"""OpenWhisk's own runtime test kits, case by case, through the REST API of a real localwhisk.

Translated from apache/openwhisk ``tests/src/test/scala/actionContainers/
BasicActionRunnerTests.scala`` (what every runtime must pass) and the runtimes' own
suites: apache/openwhisk-runtime-python ``PythonBasicTests``, ``PythonAdvancedTests`` and
``Python3Tests``; apache/openwhisk-runtime-nodejs ``NodeJsActionContainerTests``. Those
drive one container's ``/init`` and ``/run``; here each case creates an action (PUT),
invokes it blocking and reads the activation record: status, result and logs as the
platform keeps them. Where the invoker changes what the container said, the expectation
is the platform's: an init error's ``error`` is passed on unchanged, a non-200 run is a
developer error, and a developer error's logs end with the invoker's warning line
(apache/openwhisk ``ActivationResponse.scala``, ``DockerToActivationLogStore.scala``).

Shared cases are parametrised by language over ``KITS``, a table of per-language snippets
and wording (Python first); cases of one runtime's suite use that kit alone. Upstream's
``checkStreams(o, e)`` becomes ``streams(record)``: the user's stdout and stderr lines.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from lw_client import NS, Client, finished, unique, wait_for

pytestmark = pytest.mark.integration

SUCCESS = "success"
APP_ERROR = "application error"
DEV_ERROR = "action developer error"
# Appended by the invoker to the logs of every developer error (Messages.logWarningDeveloperError).
DEV_LOG_WARNING = "The action did not initialize or run as expected. Log data might be missing."
NO_CODE = "Missing main/no code to execute."
# The ActionLoop proxy's words under the Python images' OW_LOG_INIT_ERROR
# (apache/openwhisk-runtime-go openwhisk/initHandler.go, executor.go, runHandler.go).
NO_BINARY = "The action failed to generate or locate a binary. See logs for details."
START_FAILED = "Cannot start action. Check logs for details."
EXITED_DURING_INIT = "Command exited abruptly during initialization."
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\s+(stdout|stderr): ?(.*)$")

# BasicActionRunnerTests' echo arguments.
ECHO_ARGS = [
    {"string": "hello"},
    {"string": "❄ ☃ ❄"},
    {"numbers": [42, 1]},
    {"object": {"a": "A"}},
]


@dataclass(frozen=True)
class Kit:
    """One language's column of the table: the kind and a snippet per shared case."""

    language: str
    kind: str
    echo: str  # returns its arguments, printing "hello stdout" and "hello stderr"
    niam: str  # the echo under the entry point ``niam``
    unicode: str  # {delimiter} -> {"winter": delimiter + " ☃ " + delimiter}, printed too
    env_context: str  # the activation's __OW_* variables, by their lower-case names
    env_init: str  # SOME_VAR and ANOTHER_VAR as read when the code is loaded
    not_a_dict: str  # returns a string
    not_a_dict_error: str  # what the runtime answers to that
    not_a_dict_quiet: bool  # the runtime prints nothing when that happens
    app_error: str  # returns {"error": "sorry"}
    init_once: str  # prints "loading" when loaded, returns how many times it ran
    split_array: str  # {payload: "b\na"} -> ["b", "a"]
    sort_array: str  # an array argument -> that array sorted


PYTHON = Kit(
    language="python",
    kind="python:3.11",
    echo=(
        "import sys\n"
        "def main(args):\n"
        "    print('hello stdout')\n"
        "    print('hello stderr', file=sys.stderr)\n"
        "    return args\n"
    ),
    niam="def niam(args):\n    return args\n",
    unicode=(
        "# encoding: utf-8\n"
        "def main(args):\n"
        "    sep = args['delimiter']\n"
        "    str = sep + u' ☃ ' + sep\n"
        "    print(str)\n"
        "    return {'winter': str}\n"
    ),
    env_context=(
        "import os\n"
        "def main(args):\n"
        "    names = ['api_host', 'api_key', 'namespace', 'action_name', 'action_version',\n"
        "             'activation_id', 'deadline']\n"
        "    return {name: os.environ['__OW_' + name.upper()] for name in names}\n"
    ),
    env_init=(
        "import os\n"
        "somevar = os.environ['SOME_VAR']\n"
        "another = os.environ['ANOTHER_VAR']\n"
        "def main(args):\n"
        "    return {'SOME_VAR': somevar, 'ANOTHER_VAR': another}\n"
    ),
    not_a_dict="def main(args):\n    return 'not a json object'\n",
    not_a_dict_error="The action did not return a dictionary or array.",
    not_a_dict_quiet=True,
    app_error="def main(args):\n    return {'error': 'sorry'}\n",
    init_once=(
        "print('loading')\n"
        "calls = 0\n"
        "def main(args):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    return {'calls': calls}\n"
    ),
    split_array="def main(args):\n    return args['payload'].split('\\n')\n",
    sort_array="def main(lines):\n    return sorted(lines)\n",
)

KITS = [pytest.param(PYTHON, id="python")]


# -- helpers --------------------------------------------------------------------------


def create(
    api: Client,
    kind: str,
    code: str,
    *,
    main: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
    annotations: list[dict[str, Any]] | None = None,
) -> str:
    name = unique("kit")
    exec_: dict[str, Any] = {"kind": kind, "code": code}
    if main is not None:
        exec_["main"] = main
    body: dict[str, Any] = {"exec": exec_}
    if parameters is not None:
        body["parameters"] = parameters
    if annotations is not None:
        body["annotations"] = annotations
    response = api.put(f"{NS}/actions/{name}", body)
    assert response.status_code == 200, response.text
    return name


def invoke(api: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """The activation record of a blocking invoke (an array result answers with the array
    alone, as on the platform, so its record is read by id)."""
    response = api.post(f"{NS}/actions/{name}", args or {}, params={"blocking": "true"})
    assert response.status_code in (200, 502), response.text[:500]
    body = response.json()
    if isinstance(body, dict) and "activationId" in body and "response" in body:
        return body
    activation_id = response.headers["x-openwhisk-activation-id"]
    return wait_for(lambda: finished(api, activation_id), what=f"activation {activation_id}")


def run(api: Client, kind: str, code: str, args: dict[str, Any] | None = None, **kw: Any) -> dict:
    return invoke(api, create(api, kind, code, **kw), args)


def outcome(record: dict[str, Any]) -> tuple[str, Any]:
    return record["response"]["status"], record["response"]["result"]


def streams(record: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(stdout, stderr) messages of the action's logs, without the invoker's warning line
    that ends a developer error's logs (checked here to be there)."""
    lines = list(record["logs"])
    if record["response"]["status"] == DEV_ERROR:
        assert lines and lines[-1].endswith(DEV_LOG_WARNING), lines[-3:]
        lines.pop()
    out: list[str] = []
    err: list[str] = []
    for line in lines:
        match = LOG_LINE.match(line)
        assert match, line
        (out if match.group(1) == "stdout" else err).append(match.group(2))
    return out, err


def zipped(files: dict[str, str | bytes]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return base64.b64encode(buffer.getvalue()).decode()


# -- BasicActionRunnerTests, every language -------------------------------------------


@pytest.mark.parametrize("kit", KITS)
def test_init_with_no_code_is_missing_main(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "handle initialization with no code"; the platform's
    WskActionTests "fail to invoke an action with an empty file" expects exactly this."""
    record = run(api, kit.kind, "")
    assert outcome(record) == (DEV_ERROR, {"error": NO_CODE})
    assert streams(record) == ([], [])


@pytest.mark.parametrize("kit", KITS)
def test_not_returning_a_dictionary_is_a_developer_error(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "run and report an error for function not returning a
    json object"."""
    record = run(api, kit.kind, kit.not_a_dict)
    assert outcome(record) == (DEV_ERROR, {"error": kit.not_a_dict_error})
    out, err = streams(record)
    assert out == []
    if kit.not_a_dict_quiet:
        assert err == []


@pytest.mark.parametrize("kit", KITS)
def test_code_is_loaded_once_per_warm_process(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "fail to initialize a second time": the platform
    initialises a container once, so warm invokes do not load the code again."""
    name = create(api, kit.kind, kit.init_once)
    first, second = invoke(api, name), invoke(api, name)
    assert outcome(first) == (SUCCESS, {"calls": 1})
    assert outcome(second) == (SUCCESS, {"calls": 2})
    assert streams(first) == (["loading"], [])
    assert streams(second) == ([], [])


@pytest.mark.parametrize("kit", KITS)
def test_entry_point_other_than_main(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "invoke non-standard entry point"."""
    record = run(api, kit.kind, kit.niam, {"string": "hello"}, main="niam")
    assert outcome(record) == (SUCCESS, {"string": "hello"})
    assert streams(record) == ([], [])


@pytest.mark.parametrize("kit", KITS)
def test_echo_arguments_and_print_to_stdout_and_stderr(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "echo arguments and print message to stdout/stderr"."""
    name = create(api, kit.kind, kit.echo)
    for args in ECHO_ARGS:
        record = invoke(api, name, args)
        assert outcome(record) == (SUCCESS, args)
        assert streams(record) == (["hello stdout"], ["hello stderr"])


@pytest.mark.parametrize("kit", KITS)
def test_unicode_in_source_input_logs_and_result(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "handle unicode in source, input params, logs, and result"."""
    record = run(api, kit.kind, kit.unicode, {"delimiter": "❄"})
    assert outcome(record) == (SUCCESS, {"winter": "❄ ☃ ❄"})
    assert "❄ ☃ ❄" in streams(record)[0]


@pytest.mark.parametrize("kit", KITS)
def test_init_parameters_are_environment_before_the_code_loads(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "export environment variables before initialization"
    (parameters marked ``init`` are /init's env)."""
    parameters = [
        {"key": "SOME_VAR", "value": "xyz", "init": True},
        {"key": "ANOTHER_VAR", "value": "", "init": True},
    ]
    record = run(api, kit.kind, kit.env_init, parameters=parameters)
    assert outcome(record) == (SUCCESS, {"SOME_VAR": "xyz", "ANOTHER_VAR": ""})
    assert streams(record) == ([], [])


@pytest.mark.parametrize("kit", KITS)
def test_activation_context_is_in_the_environment(
    api: Client, kit: Kit, guest_auth: tuple[str, str]
) -> None:
    """BasicActionRunnerTests "confirm expected environment variables", with the values
    the platform sends (the key only to an action annotated ``provide-api-key``)."""
    name = create(
        api, kit.kind, kit.env_context, annotations=[{"key": "provide-api-key", "value": True}]
    )
    record = invoke(api, name)
    status, env = outcome(record)
    assert status == SUCCESS, env
    assert env["api_host"].startswith("http")
    assert env["api_key"] == ":".join(guest_auth)
    assert env["namespace"] == "guest"
    assert env["action_name"] == f"/guest/{name}"
    assert env["action_version"] == "0.0.1"
    assert env["activation_id"] == record["activationId"]
    assert env["deadline"].isdigit() and int(env["deadline"]) > record["start"]
    assert streams(record) == ([], [])


@pytest.mark.parametrize("kit", KITS)
def test_echo_a_large_input(api: Client, kit: Kit) -> None:
    """BasicActionRunnerTests "echo a large input": just under the 1 MB result limit."""
    args = {"arg": "a" * 1048561}
    record = run(api, kit.kind, kit.niam, args, main="niam")
    assert outcome(record) == (SUCCESS, args)


@pytest.mark.parametrize("kit", KITS)
def test_application_errors(api: Client, kit: Kit) -> None:
    """PythonBasicTests and NodeJsActionContainerTests "support application errors"."""
    record = run(api, kit.kind, kit.app_error)
    assert outcome(record) == (APP_ERROR, {"error": "sorry"})
    assert streams(record) == ([], [])


@pytest.mark.parametrize("kit", KITS)
def test_array_result_and_array_input(api: Client, kit: Kit) -> None:
    """PythonBasicTests "support return array result" and "support array as input
    param", through the platform's WskSequenceTests "invoke a sequence which supports
    array result": the REST API takes only objects, a sequence passes the array on."""
    split = create(api, kit.kind, kit.split_array)
    sort = create(api, kit.kind, kit.sort_array)
    alone = invoke(api, split, {"payload": "bbb\naaa\nccc"})
    assert outcome(alone) == (SUCCESS, ["bbb", "aaa", "ccc"])
    sequence = unique("kit-seq")
    components = [f"/guest/{split}", f"/guest/{sort}"]
    response = api.put(
        f"{NS}/actions/{sequence}", {"exec": {"kind": "sequence", "components": components}}
    )
    assert response.status_code == 200, response.text
    record = invoke(api, sequence, {"payload": "bbb\naaa\nccc"})
    assert outcome(record) == (SUCCESS, ["aaa", "bbb", "ccc"])
    second = finished(api, record["logs"][1])
    assert second is not None and second["response"]["result"] == ["aaa", "bbb", "ccc"]


# -- PythonBasicTests, PythonAdvancedTests, Python3Tests -------------------------------

PY = PYTHON.kind


def test_python_zip_with_non_default_entry_point(api: Client) -> None:
    """PythonBasicTests "support zip-encoded action using non-default entry points"."""
    code = zipped(
        {
            "__main__.py": "from echo import echo\ndef niam(args):\n    return echo(args)\n",
            "echo.py": "def echo(args):\n  return { 'echo': args }\n",
        }
    )
    record = run(api, PY, code, {"msg": "it works"}, main="niam")
    assert outcome(record) == (SUCCESS, {"echo": {"msg": "it works"}})
    assert streams(record) == ([], [])


def test_python_zip_reads_relative_paths(api: Client) -> None:
    """PythonBasicTests "support zip-encoded action which can read from relative paths"."""
    code = zipped(
        {
            "__main__.py": (
                "def main(args):\n    with open('workfile', 'r') as f:\n"
                "      return { 'file': f.read() }\n"
            ),
            "workfile": "this is a test string",
        }
    )
    record = run(api, PY, code)
    assert outcome(record) == (SUCCESS, {"file": "this is a test string"})
    assert streams(record) == ([], [])


def test_python_zip_without_main_module(api: Client) -> None:
    """PythonBasicTests "report error if zip-encoded action does not include required file"."""
    code = zipped({"echo.py": "def echo(args):\n  return { 'echo': args }\n"})
    record = run(api, PY, code, main="echo")
    assert outcome(record) == (DEV_ERROR, {"error": NO_BINARY})
    out, err = streams(record)
    assert out == []
    assert any("Zip file does not include" in line for line in err), err


def test_python_action_error_is_an_application_error_with_traceback(api: Client) -> None:
    """PythonBasicTests "return on action error when action fails"."""
    code = "def div(x, y):\n    return x/y\n\ndef main(dict):\n    return {'divBy0': div(5,0)}\n"
    record = run(api, PY, code)
    assert outcome(record) == (APP_ERROR, {"error": "division by zero"})
    out, err = streams(record)
    assert out == []
    assert "Traceback (most recent call last):" in err


def test_python_syntax_error_fails_the_build(api: Client) -> None:
    """PythonBasicTests "log compilation errors"."""
    record = run(api, PY, ' 10 PRINT "Hello!"\n 20 GOTO 10\n')
    assert outcome(record) == (DEV_ERROR, {"error": NO_BINARY})
    out, err = streams(record)
    assert out == []
    assert err[-1] == "IndentationError: unexpected indent", err  # a SyntaxError


def test_python_import_of_a_missing_module_cannot_start(api: Client) -> None:
    """PythonBasicTests "error when importing a not-supported package": the user's
    traceback, not the runtime's own frames, then the proxy's line."""
    code = "import iamnotsupported\ndef main(args):\n    return { 'error': 'not reaching here' }\n"
    record = run(api, PY, code)
    assert outcome(record) == (DEV_ERROR, {"error": START_FAILED})
    out, err = streams(record)
    assert out == []
    assert err[0] == "Traceback (most recent call last):"
    assert "ModuleNotFoundError: No module named 'iamnotsupported'" in err
    assert err[-1] == EXITED_DURING_INIT
    frames = [line for line in err if line.lstrip().startswith("File ")]
    assert len(frames) == 1 and "__main__.py" in frames[0] and "line 1" in frames[0], err
    assert not any("launcher" in line or "importlib" in line for line in err), err


def test_python_sys_executable_is_python(api: Client) -> None:
    """PythonBasicTests "have a valid sys.executable"."""
    record = run(api, PY, "import sys\ndef main(args):\n    return { 'sys': sys.executable }\n")
    status, result = outcome(record)
    assert status == SUCCESS and "python" in result["sys"]


def test_python_termination_at_run_is_command_exited(api: Client) -> None:
    """PythonAdvancedTests "detect termination at run": the proxy answers 400
    ``command exited``, a developer error for the invoker."""
    record = run(api, PY, "import sys\ndef main(args):\n  sys.exit(1)\n")
    assert outcome(record) == (DEV_ERROR, {"error": "command exited"})
    assert streams(record) == ([], [])


def test_python_termination_at_init_cannot_start(api: Client) -> None:
    """PythonAdvancedTests "detect termination at init"."""
    record = run(api, PY, "import sys\nsys.exit(1)\ndef main(args):\n   pass\n")
    assert outcome(record) == (DEV_ERROR, {"error": START_FAILED})
    assert streams(record) == ([], [EXITED_DURING_INIT])


def test_python_init_parameter_read_at_load(api: Client) -> None:
    """PythonAdvancedTests "read an environment variable"."""
    code = "import os\nX = os.getenv('X')\nprint(X)\ndef main(args):\n   return { 'body': 'ok' }\n"
    record = run(api, PY, code, parameters=[{"key": "X", "value": "xyz", "init": True}])
    assert outcome(record) == (SUCCESS, {"body": "ok"})
    assert streams(record) == (["xyz"], [])


# Python3Tests' python_virtualenv: a module that only the virtualenv in the zip provides.
# The upstream artifact is built with pip; this one is laid out by hand, with the
# activate_this.py that the runtime executes (openwhisk-runtime-python lib/launcher.py).
VENV_SITE = "virtualenv/lib/python3.11/site-packages"
VENV_FILES = {
    "virtualenv/bin/activate_this.py": (
        "import os, site, sys\n"
        "base = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n"
        "os.environ['VIRTUAL_ENV'] = base\n"
        "site.addsitedir(os.path.join(base, 'lib', 'python3.11', 'site-packages'))\n"
        "sys.prefix = base\n"
    ),
    f"{VENV_SITE}/user_agent_kit/__init__.py": (
        "def random_user_agent():\n    return 'Mozilla/5.0 (X11; Linux x86_64)'\n"
    ),
}
VENV_MAIN = (
    "from user_agent_kit import random_user_agent\n"
    "def main(args):\n    return {'agent': random_user_agent()}\n"
    "def naim(args):\n    return main(args)\n"
)


@pytest.mark.parametrize("main", [None, "naim"], ids=["main", "naim"])
def test_python_zip_with_a_virtualenv(api: Client, main: str | None) -> None:
    """Python3Tests "run zipped Python action containing a virtual environment" (and
    "... with non-standard entry point")."""
    record = run(api, PY, zipped({"__main__.py": VENV_MAIN, **VENV_FILES}), main=main)
    assert outcome(record) == (SUCCESS, {"agent": "Mozilla/5.0 (X11; Linux x86_64)"})


def test_python_virtualenv_zip_with_wrong_main_module(api: Client) -> None:
    """Python3Tests "report error if zipped Python action has wrong main module name".
    Upstream's artifact is a zip already compiled by the runtime (with its ``exec``);
    a zip as a developer makes it fails the compile step instead."""
    record = run(api, PY, zipped({"main.py": VENV_MAIN, **VENV_FILES}))
    assert outcome(record) == (DEV_ERROR, {"error": NO_BINARY})
    out, err = streams(record)
    assert out == [] and any("Zip file does not include" in line for line in err), err


def test_python_zip_with_an_invalid_virtualenv(api: Client) -> None:
    """Python3Tests "report error if zipped Python action has invalid virtualenv
    directory" (python_virtualenv_invalid_venv)."""
    code = zipped(
        {
            "__main__.py": "def main(args):\n    return args\n",
            "virtualenv/invalidvirtualenv.md": "not a virtualenv\n",
        }
    )
    record = run(api, PY, code)
    assert outcome(record) == (DEV_ERROR, {"error": NO_BINARY})
    assert streams(record) == (
        [],
        ["Invalid virtualenv. Zip file does not include 'activate_this.py'."],
    )
