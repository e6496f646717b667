"""The API key never appears in any output of the deploy tool, whatever the command or path.

Every command (validate, plan, deploy, undeploy, urls, target, invoke, fire,
activation get/result/logs/wait), plain, ``--json`` and ``-v``, runs against the
real local server with an action that returns and logs its own ``__OW_API_KEY``;
then the error paths (unreachable server, rejected key, missing apihost, bad
manifest, a key typed where an argument goes) and a forced bug whose exception
and traceback carry the key. Each captured stdout/stderr is scanned for the key,
its secret half and its Basic-auth base64 form. A ``.wskprops`` readable by
others gets a warning (that does not show the key either).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import KEY, tool_env

from deploy.cli import main

SECRET = KEY.split(":")[1]
FORMS = {
    "key": KEY,
    "secret": SECRET,
    "basic": base64.b64encode(KEY.encode()).decode(),
}
OTHER_KEY = "0b1c2d3e-0000-4000-8000-000000000001:" + "s3cr3t" * 10  # rejected by the server
LEAK = """\
import os
def main(args):
    key = os.environ.get("__OW_API_KEY", "")
    print("my key is", key)
    return {"key": key, "basic": args.get("basic", ""), "note": args.get("note")}
"""
MANIFEST = """\
project:
  name: secret-app
  packages:
    default:
      actions:
        leak:
          function: leak.py
          runtime: python:3.11
          web: true
          annotations: {provide-api-key: true}
          inputs: {note: hello}
      triggers:
        leak-trigger: {}
      rules:
        leak-rule: {trigger: leak-trigger, action: leak}
"""


def assert_no_key(text: str, *keys: str) -> None:
    for key in keys or (KEY,):
        forms = {
            "key": key,
            "secret": key.partition(":")[2],
            "basic": base64.b64encode(key.encode()).decode(),
        }
        for form, value in forms.items():
            assert value not in text, f"the key's {form} form is in the output:\n{text}"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "secret-app"
    folder.mkdir()
    (folder / "leak.py").write_text(LEAK)
    (folder / "manifest.yaml").write_text(MANIFEST)
    return folder


class Runner:
    def __init__(self, capsys: Any, home: Path, environ: dict[str, str]) -> None:
        self.capsys, self.home, self.environ = capsys, home, environ
        self.outputs: list[str] = []

    def __call__(self, *argv: str, environ: dict[str, str] | None = None, **kw: Any) -> Any:
        code = main(
            list(argv),
            environ=self.environ if environ is None else environ,
            home=self.home,
            sleep=lambda seconds: None,  # retries happen, without waiting for real
            **kw,
        )
        out, err = self.capsys.readouterr()
        self.outputs.append(out + err)
        assert_no_key(out + err, KEY, OTHER_KEY)
        return code, out, err


@pytest.fixture
def run(capsys, home, rel_server) -> Runner:
    return Runner(capsys, home, {"WHISK_APIHOST": rel_server, "WHISK_AUTH": KEY})


def test_every_command_with_the_key_in_results_and_logs_never_prints_it(run, project):
    m = ("-m", str(project))
    for flags in ((), ("--json",), ("-v",)):
        assert run("validate", *m, *flags)[0] == 0
        assert run("target", *m, *flags)[0] == 0
    assert run("target", "--is-local-default", *m)[0] == 1
    assert run("plan", *m, "-v")[0] == 0
    assert run("deploy", *m, "-v")[0] == 0
    assert run("deploy", *m, "--json", "-v")[0] == 0  # the no-op path
    assert run("plan", *m, "--json")[0] == 0
    assert run("urls", *m)[0] == 0 and run("urls", *m, "--json")[0] == 0

    params = ("-p", "basic", FORMS["basic"])  # a parameter echoed back in the result
    code, out, _ = run("invoke", "leak", "--blocking", "--json", *params, *m)
    assert code == 0
    assert json.loads(out)["body"]["response"]["result"]["key"] == "***", (
        "the action must really see its key, or this test proves nothing"
    )
    assert run("invoke", "leak", "--result", *params, *m)[0] == 0
    code, out, _ = run("invoke", "leak", "--json", *m)
    activation = json.loads(out)["activationId"]
    assert run("activation", "wait", activation, "--timeout", "30", *m)[0] == 0
    for what in ("get", "result", "logs"):
        for flags in ((), ("--json",)):
            assert run("activation", what, activation, *m, *flags)[0] == 0
    code, out, _ = run("fire", "leak-trigger", "--wait", "--timeout", "30", *params, *m)
    assert code == 0 and "***" in out
    assert run("undeploy", *m, "-v", "--json")[0] == 0
    assert run("undeploy", *m)[0] == 0  # nothing left: its own message
    assert any("***" in text for text in run.outputs), "the masked key should show as ***"


def test_error_paths_never_print_the_key(run, project, home):
    m = ("-m", str(project))
    unreachable = {"WHISK_APIHOST": "http://127.0.0.1:9", "WHISK_AUTH": KEY}
    for command in ("plan", "deploy", "undeploy", "urls"):
        for flags in ((), ("--json",), ("-v",)):
            code, _, err = run(command, *m, *flags, environ=unreachable)
            assert code == 1 and "Traceback" not in err
    code, _, err = run("invoke", "leak", *m, environ=unreachable)
    assert code == 1

    rejected = {"WHISK_APIHOST": run.environ["WHISK_APIHOST"], "WHISK_AUTH": OTHER_KEY}
    for argv in (("plan", *m), ("deploy", *m, "--json"), ("invoke", "leak"), ("fire", "t")):
        code, _, err = run(*argv, environ=rejected)
        assert code == 1 and "HTTP 401" in err, err
    code, _, err = run("plan", *m, "--auth", OTHER_KEY, environ=unreachable)
    assert code == 1
    # the key offered by a flag is masked even when another key is the one in use
    code, _, err = run("plan", *m, "--auth", OTHER_KEY, "--apihost", "http://127.0.0.1:9")
    assert code == 1

    assert run("plan", *m, environ={"WHISK_AUTH": KEY, "WHISK_APIHOST": ""})[0] == 2
    assert run("plan", *m, environ={"AIO_runtime_auth": KEY, "AIO_RUNTIME_APIHOST": "x:1:2"})[0]
    assert (
        run("plan", *m, "--auth", SECRET, environ={"WHISK_APIHOST": "http://127.0.0.1:9"})[0] == 2
    )  # no ':' in it: refused, and the refusal does not quote it

    (project / "manifest.yaml").write_text(MANIFEST + f"  {KEY}: [\n")
    assert run("validate", *m, "--json")[0] == 2
    assert run("deploy", *m)[0] == 2
    (project / "manifest.yaml").write_text(MANIFEST.replace("leak.py", f"{SECRET}.py"))
    assert run("deploy", *m, "--json")[0] == 2


def test_a_key_typed_where_an_argument_goes_is_not_echoed(run, project):
    # argparse echoes what it cannot parse; a key pasted in the wrong place must not come back
    for argv in (
        ("target", KEY),
        ("deploy", "--parallelism", KEY),
        ("activation", KEY, "x"),
        ("plan", "--namespace", "guest", SECRET),
    ):
        code, _, err = run(*argv)
        assert code == 2, err
        assert "usage:" in err or "error:" in err


def test_a_bug_traceback_is_masked(run, project):
    header = "Basic " + FORMS["basic"]

    class Exploding:
        headers: dict[str, str] = {}
        auth = None

        def request(self, method: str, url: str, **kwargs: Any) -> Any:
            raise RuntimeError(f"bug: {KEY} / {SECRET} / Authorization: {header} on {url}")

    for argv in (
        ("activation", "get", "d" * 32),
        ("plan", "-m", str(project)),
        ("deploy", "-m", str(project), "--json"),
    ):
        code, _, err = run(*argv, session=Exploding())
        assert code == 1
        assert "Traceback" in err and "this is a bug in the deploy tool" in err
        assert "RuntimeError: bug: *** / *** / Authorization: Basic ***" in err


def test_a_bug_in_a_real_process_prints_a_masked_traceback(rel_server, home, tmp_path):
    # The bug is planted in a fresh interpreter: the traceback is the real one, printed by main.
    plant = (
        "import sys, deploy.http.client as c\n"
        "def broken(self):\n"
        "    raise ValueError(f'state {self.settings.auth} {self.session.auth}')\n"
        "c.OpenWhiskClient.server_info = broken\n"
        "from deploy.cli import main\n"
        "sys.exit(main())\n"
    )
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "leak.py").write_text(LEAK)
    (folder / "manifest.yaml").write_text(MANIFEST)
    done = subprocess.run(
        [sys.executable, "-c", plant, "plan", "-v"],
        cwd=folder,
        env=tool_env(rel_server, home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ValueError: state *** (" in done.stderr
    assert_no_key(done.stdout + done.stderr)


def test_a_wskprops_readable_by_others_is_warned_about_without_the_key(
    run, project, rel_server, home
):
    props = home / ".wskprops"
    props.write_text(f"APIHOST={rel_server}\nAUTH={KEY}\nNAMESPACE=guest\n")
    props.chmod(0o644)
    code, _, err = run("target", "-m", str(project), environ={})
    assert code == 0
    assert f"warning: {props} holds an API key and is readable by group/others" in err
    assert "chmod 600" in err
    props.chmod(0o600)
    code, _, err = run("target", "-m", str(project), environ={})
    assert code == 0 and "warning" not in err
    code, out, err = run("plan", "-m", str(project), "--json", environ={})  # the key from the file
    assert code == 0
