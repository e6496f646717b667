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

NODEJS = Kit(
    language="nodejs",
    kind="nodejs:20",
    echo=(
        "function main(args) {\n"
        "    console.log('hello stdout')\n"
        "    console.error('hello stderr')\n"
        "    return args\n"
        "}\n"
    ),
    niam="function niam(args) {\n    return args;\n}\n",
    unicode=(
        "function main(args) {\n"
        "    var str = args.delimiter + ' ☃ ' + args.delimiter;\n"
        "    console.log(str);\n"
        "    return { 'winter': str };\n"
        "}\n"
    ),
    env_context=(
        "function main(args) {\n"
        "    const names = ['api_host', 'api_key', 'namespace', 'action_name', 'action_version',\n"
        "                   'activation_id', 'deadline'];\n"
        "    const env = {};\n"
        "    for (const name of names) env[name] = process.env['__OW_' + name.toUpperCase()];\n"
        "    return env;\n"
        "}\n"
    ),
    env_init=(
        "const envargs = {\n"
        "    'SOME_VAR': process.env.SOME_VAR,\n"
        "    'ANOTHER_VAR': process.env.ANOTHER_VAR\n"
        "}\n"
        "function main(args) {\n"
        "    return envargs\n"
        "}\n"
    ),
    not_a_dict="function main(args) {\n    return 'not a json object'\n}\n",
    # core/nodejsActionBase/src/service.js runCode (logged as "Result must be of type object").
    not_a_dict_error="The action did not return a dictionary.",
    not_a_dict_quiet=False,
    app_error="function main(args) {\n    return { 'error': 'sorry' };\n}\n",
    init_once=(
        "console.log('loading')\n"
        "let calls = 0\n"
        "function main(args) {\n"
        "    calls += 1\n"
        "    return { calls: calls }\n"
        "}\n"
    ),
    split_array="function main(msg) {\n    return msg.payload.split('\\n');\n}\n",
    sort_array="function main(lines) {\n    return lines.sort();\n}\n",
)

KITS = [pytest.param(PYTHON, id="python"), pytest.param(NODEJS, id="nodejs")]


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


# -- NodeJsActionContainerTests -------------------------------------------------------

NODE = NODEJS.kind
# core/nodejsActionBase/src/service.js: what /init and /run answer when they fail.
NODE_INIT_FAILED = "Initialization has failed due to: "
NODE_RUN_FAILED = "An error has occurred: "
NO_NODE_ENTRY = "Zipped actions must contain either package.json or index.js at the root."
PACKAGE_JSON = """
 {
   "name": "wskaction",
   "version": "1.0.0",
   "description": "An OpenWhisk action as an npm package.",
   "main": "index.js",
   "author": "info@openwhisk.org",
   "license": "Apache-2.0"
 }
"""
GREETING = (
    " exports.{name} = function (args) {{\n"
    '     var name = typeof args["name"] === "string" ? args["name"] : "stranger";\n'
    '     return {{ greeting: "Hello " + name + ", {where}" }};\n'
    " }}\n"
)


def test_nodejs_bad_code_fails_to_initialize(api: Client) -> None:
    """NodeJsActionContainerTests "fail to initialize with bad code"."""
    record = run(api, NODE, ' 10 PRINT "Hello world!"\n 20 GOTO 10\n')
    status, result = outcome(record)
    assert status == DEV_ERROR
    assert result["error"].startswith(NODE_INIT_FAILED + "SyntaxError"), result
    out, err = streams(record)
    logged = "\n".join(out + err).lower()
    assert "error" in logged and "syntax" in logged, out + err


def test_nodejs_thrown_error_is_a_developer_error(api: Client) -> None:
    """NodeJsActionContainerTests "return some error on action error"."""
    record = run(api, NODE, ' function main(args) {\n     throw "nooooo";\n }\n')
    assert outcome(record) == (DEV_ERROR, {"error": NODE_RUN_FAILED + "nooooo"})


def test_nodejs_documentation_examples_synchronous(api: Client) -> None:
    """NodeJsActionContainerTests "support the documentation examples (1)"."""
    code = (
        "function main(params) {\n"
        "    if (params.payload == 0) {\n"
        "        return;\n"
        "    } else if (params.payload == 1) {\n"
        "        return {payload: 'Hello, World!'}\n"
        "    } else if (params.payload == 2) {\n"
        "        return {error: 'payload must be 0 or 1'}\n"
        "    }\n"
        "}\n"
    )
    name = create(api, NODE, code)
    records = [invoke(api, name, {"payload": n}) for n in (0, 1, 2)]
    assert [outcome(r) for r in records] == [
        (SUCCESS, {}),
        (SUCCESS, {"payload": "Hello, World!"}),
        (APP_ERROR, {"error": "payload must be 0 or 1"}),
    ]
    assert all(streams(r) == ([], []) for r in records)


def test_nodejs_documentation_examples_asynchronous(api: Client) -> None:
    """NodeJsActionContainerTests "support the documentation examples (2)"."""
    code = (
        "function main(params) {\n"
        "    if (params.payload) {\n"
        "        return new Promise(function(resolve, reject) {\n"
        "            setTimeout(function() { resolve({ done: true }); }, 100);\n"
        "        })\n"
        "    } else {\n"
        "        return {done: true};\n"
        "    }\n"
        "}\n"
    )
    name = create(api, NODE, code)
    for args in ({}, {"payload": True}):
        record = invoke(api, name, args)
        assert outcome(record) == (SUCCESS, {"done": True})
        assert streams(record) == ([], [])


def test_nodejs_variables_with_no_var_declaration(api: Client) -> None:
    """NodeJsActionContainerTests "support variables with no var declaration"."""
    code = (
        "function main(params) {\n"
        "   greeting = 'hello, ' + params.payload + '!'\n"
        "   console.log(greeting);\n"
        "   return {payload: greeting}\n"
        "}\n"
    )
    record = run(api, NODE, code, {"payload": "test"})
    assert outcome(record) == (SUCCESS, {"payload": "hello, test!"})
    assert streams(record) == (["hello, test!"], [])


@pytest.mark.parametrize(
    "code",
    [
        "function foo() {\n  return { bar: true }\n}\nglobal.main = foo\n",
        " exports.main = function (params) {\n     return { bar: true }\n }\n",
        " module.exports.main = function (params) {\n     return { bar: true }\n }\n",
    ],
    ids=["global.main", "exports.main", "module.exports.main"],
)
def test_nodejs_main_found_as_the_runtime_finds_it(api: Client, code: str) -> None:
    """NodeJsActionContainerTests "support webpacked function", "support exports.main
    for single files", "support module.exports.main for single files"."""
    record = run(api, NODE, code)
    assert outcome(record) == (SUCCESS, {"bar": True})
    assert streams(record) == ([], [])


def test_nodejs_requiring_a_missing_package_fails_the_run(api: Client) -> None:
    """NodeJsActionContainerTests "error when requiring a non-existent package"."""
    code = " function main(args) {\n     require('.mildlyinvalidnameofanonexistentpackage');\n }\n"
    record = run(api, NODE, code)
    status, result = outcome(record)
    assert status == DEV_ERROR
    assert result["error"].startswith(NODE_RUN_FAILED + "Error: Cannot find module"), result
    out, err = streams(record)
    assert re.search("Error|error", "\n".join(out + err)), out + err


def test_nodejs_openwhisk_package_is_available(api: Client) -> None:
    """NodeJsActionContainerTests "have openwhisk package available"."""
    code = (
        " function main(args) {\n     require('openwhisk');\n     return { 'result': true }\n }\n"
    )
    record = run(api, NODE, code)
    assert outcome(record) == (SUCCESS, {"result": True})
    assert streams(record) == ([], [])


@pytest.mark.parametrize(
    ("settle", "expected"),
    [
        ("resolve({ done: true })", (SUCCESS, {"done": True})),
        ("reject({ done: true })", (APP_ERROR, {"error": {"done": True}})),
        ("reject()", (APP_ERROR, {"error": {}})),
    ],
    ids=["resolved", "rejected", "rejected-with-no-message"],
)
def test_nodejs_promises(api: Client, settle: str, expected: tuple[str, Any]) -> None:
    """NodeJsActionContainerTests "support resolved promises", "support rejected
    promises", "support rejected promises with no message"."""
    code = (
        "function main(args) {\n"
        "    return new Promise(function(resolve, reject) {\n"
        f"        setTimeout(function() {{ {settle}; }}, 100);\n"
        "    })\n"
        "}\n"
    )
    record = run(api, NODE, code)
    assert outcome(record) == expected
    assert streams(record) == ([], [])


def test_nodejs_large_ish_action(api: Client) -> None:
    """NodeJsActionContainerTests "support large-ish actions"."""
    thought = " I took the one less traveled by, and that has made all the difference."
    code = (
        "function main(args) {\n    var x = 'hello';\n"
        + f'    x = "{thought}";\n' * 7000
        + "    x = 'world';\n    return { 'message' : x };\n}\n"
    )
    assert len(code) >= 500000
    record = run(api, NODE, code)
    assert outcome(record) == (SUCCESS, {"message": "world"})
    assert streams(record) == ([], [])


def returns(name: str, result: str) -> str:
    return f" exports.{name} = function (args) {{\n     return {{ result: '{result}' }};\n }}\n"


NESTED = (
    " exports.niam = { xyz: function (args) {\n"
    '     return { greeting: "Hello stranger, from nested main." };\n'
    " } }\n"
)
ZIPPED = {  # id: (files, main, result)
    "package.json": (
        {"package.json": PACKAGE_JSON, "index.js": GREETING.format(
            name="main", where="from an npm package action.")},
        None,
        {"greeting": "Hello stranger, from an npm package action."},
    ),
    "index.js": (
        {"index.js": GREETING.format(
            name="main", where="from an npm package action without a package.json.")},
        None,
        {"greeting": "Hello stranger, from an npm package action without a package.json."},
    ),
    "other.niam": (
        {"other.js": GREETING.format(name="niam", where="from other.niam.")},
        "other.niam",
        {"greeting": "Hello stranger, from other.niam."},
    ),
    "nested-main": (
        {"other.js": NESTED}, "other.niam.xyz", {"greeting": "Hello stranger, from nested main."}
    ),
    "package.json-overridden": (
        {
            "package.json": PACKAGE_JSON,
            "index.js": returns("main", "it works"),
            "other.js": returns("niam", "it should also work"),
        },
        "other.niam",
        {"result": "it should also work"},
    ),
    "non-default-entry-point": (
        {"package.json": PACKAGE_JSON, "index.js": returns("niam", "it works")},
        "niam",
        {"result": "it works"},
    ),
}  # fmt: skip


@pytest.mark.parametrize(("files", "main", "expected"), ZIPPED.values(), ids=ZIPPED.keys())
def test_nodejs_zipped_actions(
    api: Client, files: dict[str, str], main: str | None, expected: dict[str, Any]
) -> None:
    """NodeJsActionContainerTests "support zip-encoded npm package actions", "... without
    a package.json file", "... with main from file other than index.js", "support nested
    main", "allow zip-encoded npm package containing package.json and overriding entry
    point", "support zipped actions using non-default entry point"."""
    record = run(api, NODE, zipped(files), main=main)
    assert outcome(record) == (SUCCESS, expected)
    assert streams(record) == ([], [])


def test_nodejs_invalid_zip_fails_gracefully(api: Client) -> None:
    """NodeJsActionContainerTests "fail gracefully on invalid zip files": base64 of a
    text, which the platform takes for a zip (runner.js detectFileType says no)."""
    record = run(api, NODE, "Q2VjaSBuJ2VzdCBwYXMgdW4gemlwLgo=")
    unsupported = (
        "There was an error uncompressing the action archive. The file type is unsupported"
    )
    assert outcome(record) == (DEV_ERROR, {"error": NODE_INIT_FAILED + unsupported})
    out, err = streams(record)
    logged = "\n".join(out + err).lower()
    assert "error" in logged and re.search("syntax|uncompressing", logged), out + err


def test_nodejs_zip_that_is_not_an_action(api: Client) -> None:
    """NodeJsActionContainerTests "fail gracefully on valid zip files that are not
    actions"."""
    record = run(api, NODE, zipped({"hello": "\n Hello world!\n"}))
    assert outcome(record) == (DEV_ERROR, {"error": NODE_INIT_FAILED + NO_NODE_ENTRY})
    out, err = streams(record)
    logged = "\n".join(out + err).lower()
    assert re.search("error|exited", logged) and NO_NODE_ENTRY.lower() in logged, out + err


def test_nodejs_zipped_action_runs_in_its_folder(api: Client) -> None:
    """NodeJsActionContainerTests "set correct cwd for zipped actions"."""
    index = (
        " const fs = require('fs');\n"
        " exports.main = function (args) {\n"
        "     const fileData = fs.readFileSync('./test.txt').toString();\n"
        "     return { result1: fileData, result2: __dirname === process.cwd() };\n"
        " }\n"
    )
    code = zipped({"package.json": PACKAGE_JSON, "test.txt": "test text", "index.js": index})
    record = run(api, NODE, code)
    assert outcome(record) == (SUCCESS, {"result1": "test text", "result2": True})


def test_nodejs_default_function_parameters(api: Client) -> None:
    """NodeJsActionContainerTests "support default function parameters"."""
    code = (
        " function main(args) {\n     let foo = 3;\n"
        "     return {isValid: (function (a, b = 2) {return a === 3 && b === 2;}(foo))};\n }\n"
    )
    record = run(api, NODE, code)
    assert outcome(record) == (SUCCESS, {"isValid": True})
    assert streams(record) == ([], [])


def test_nodejs_user_provided_packages_in_a_zip(api: Client) -> None:
    """NodeJsActionContainerTests "use user provided npm packages in a zip file"
    (tests/dat/actions/nodejs-test, its node_modules in the zip)."""
    files = {
        "package.json": (
            '{"name": "nodejs-zip", "version": "1.0.0", "main": "main.js",'
            ' "dependencies": {"openwhisk": "^2.0.0"}}'
        ),
        "main.js": (
            "function main(args) {\n  let x = require('abcxyz')\n"
            "  return { 'message': x() };\n}\nmodule.exports = { main: main, niam: main }\n"
        ),
        "node_modules/abcxyz/index.js": "module.exports = () => 'hello local library'\n",
    }
    record = run(api, NODE, zipped(files))
    assert outcome(record) == (SUCCESS, {"message": "hello local library"})


def test_nodejs_async_and_await(api: Client) -> None:
    """NodeJsActionContainerTests "support async and await"."""
    code = (
        " const util = require('util');\n const fs = require('fs');\n"
        " const stat = util.promisify(fs.stat);\n"
        " async function main() {\n   const stats = await stat('.');\n   return stats\n }\n"
    )
    status, result = outcome(run(api, NODE, code))
    assert status == SUCCESS and "uid" in result, result


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("return a.b.c", "ReferenceError: a is not defined"),
        ("throw new Error('app error')", "Error: app error"),
    ],
    ids=["thrown-by-the-runtime", "thrown-by-the-user"],
)
def test_nodejs_errors_thrown_from_async_functions(api: Client, body: str, shown: str) -> None:
    """NodeJsActionContainerTests "support errors thrown from async functions" and
    "support user thrown errors from async functions": a rejection, serialised."""
    status, result = outcome(run(api, NODE, f" async function main() {{\n   {body}\n }}\n"))
    assert status == APP_ERROR
    assert shown in result["error"]["stack"] and result["error"]["message"] in shown, result
