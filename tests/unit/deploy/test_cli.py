"""The command line end to end over `responses`: output, exit codes, and the key never printed."""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from deploy.cli import main
from deploy.http.sessions import requests_session

KEY = "0f0e0d0c-0b0a-4999-8888-777766665555:" + "Zq9" * 21 + "x"
SECRET = KEY.split(":", 1)[1]
HOST = "https://ow.example"
NS = f"{HOST}/api/v1/namespaces/guest"
ENV = {"WHISK_APIHOST": HOST, "WHISK_AUTH": KEY, "WHISK_NAMESPACE": "guest"}
INFO = {
    "limits": {"min_action_duration": 100, "max_action_duration": 300000},
    "runtimes": {"python": [{"kind": "python:3.11"}]},
}
MANIFEST = """\
project:
  name: cli-test
  packages:
    default:
      actions:
        my-worker:
          function: actions/worker
          runtime: python:3.11
          limits:
            timeout: 120000
        test:
          function: actions/web
          runtime: python:3.11
          web: true
          inputs:
            worker_action: my-worker
          annotations:
            provide-api-key: true
      triggers:
        my-worker-trigger: {}
      rules:
        async-rule:
          trigger: my-worker-trigger
          action: my-worker
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, code in (
        ("worker", "def main(args):\n    return {'done': True}\n"),
        (
            "web",
            "import os\n\ndef main(args):\n    return {'k': bool(os.environ.get('__OW_API_KEY'))}\n",
        ),
    ):
        folder = tmp_path / "actions" / name
        folder.mkdir(parents=True)
        (folder / "__main__.py").write_text(code)
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    return tmp_path / "manifest.yaml"


class FakeWhisk:
    """A dict-backed namespace behind `responses` callbacks: PUT stores, GET/list read, DELETE drops."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.store: dict[tuple[str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str]] = []
        self.fail: dict[str, tuple[int, dict[str, str]]] = {}  # name -> (status, error body)
        mock.add(responses.GET, f"{HOST}/", json=INFO)
        # No API gateway here (whisk.system/apimgmt absent), as on many OpenWhisk installs.
        apimgmt = re.compile(rf"{re.escape(HOST)}/api/v1/web/whisk\.system/apimgmt/.*")
        mock.add(responses.GET, apimgmt, status=404, json={"error": "not found", "code": "c"})
        entity = re.compile(
            rf"{re.escape(NS)}/(actions|packages|triggers|rules)(?:/([^?]+))?(?:\?.*)?$"
        )
        for method in ("GET", "PUT", "DELETE"):
            mock.add_callback(method, entity, callback=self.handle)

    def handle(self, request: Any) -> tuple[int, dict[str, str], str]:
        match = re.match(rf"{re.escape(NS)}/(\w+)(?:/([^?]+))?", request.url)
        assert match
        collection, name = match.group(1), requests.utils.unquote(match.group(2) or "")
        if request.method == "GET" and not name:
            skip = int(re.search(r"skip=(\d+)", request.url).group(1))
            items = [doc for (c, _), doc in sorted(self.store.items()) if c == collection]
            return 200, {}, json.dumps(items[skip : skip + 200])
        key = (collection, name)
        if request.method == "PUT":
            self.writes.append(("PUT", name))
            if name in self.fail:
                status, error = self.fail[name]
                return status, {}, json.dumps(error)
            doc = json.loads(request.body)
            doc.pop("delAnnotations", None)
            doc.setdefault("exec", {}).pop("code", None)
            doc.update(name=name.split("/")[-1], namespace="guest")
            self.store[key] = doc
            return 200, {}, json.dumps(doc)
        if key not in self.store:
            return (
                404,
                {},
                json.dumps({"error": "The requested resource does not exist.", "code": "c"}),
            )
        if request.method == "DELETE":
            self.writes.append(("DELETE", name))
            return 200, {}, json.dumps(self.store.pop(key))
        return 200, {}, json.dumps(self.store[key])


@pytest.fixture
def whisk() -> Iterator[FakeWhisk]:
    # Routes are regex callbacks for a whole namespace: not every one fires in every test.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeWhisk(mock)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def run(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *argv: str,
    env: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, str, str]:
    code = main(
        list(argv),
        environ=ENV if env is None else env,
        home=tmp_path,
        sleep=lambda s: None,
        **{"session": requests_session(HOST), **kwargs},  # the transport `responses` sees
    )
    out, err = capsys.readouterr()
    assert KEY not in out + err and SECRET not in out + err, "the key was printed"
    return code, out, err


def test_help_is_fast_and_imports_no_heavy_module() -> None:
    probe = (
        "import sys\nfrom deploy.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('requests', 'yaml', 'jinja2') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("[]")


def test_target_prints_where_settings_come_from_never_the_key(capsys, tmp_path) -> None:
    code, out, err = run(capsys, tmp_path, "target")
    assert code == 0 and HOST in out and "env WHISK_*" in out
    assert err.startswith("target: https://ow.example namespace guest (env WHISK_*)")


def test_target_is_local_default_decides_for_the_makefile(capsys, tmp_path) -> None:
    assert run(capsys, tmp_path, "target", "--is-local-default", env={})[0] == 0
    assert run(capsys, tmp_path, "target", "--is-local-default")[0] == 1


def test_validate_ok_and_bad_manifest_exit_2_without_traceback(capsys, tmp_path, project) -> None:
    code, out, _ = run(capsys, tmp_path, "validate", "-m", str(project))
    assert code == 0 and "2 actions, 1 trigger, 1 rule: valid" in out
    project.write_text(
        MANIFEST.replace("runtime: python:3.11\n          limits", "runtim: x\n          limits")
    )
    code, out, err = run(capsys, tmp_path, "validate", "-m", str(project))
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err


def test_validate_warns_of_kinds_and_limits_no_platform_offers(capsys, tmp_path, project) -> None:
    project.write_text(
        MANIFEST.replace(
            "runtime: python:3.11\n          limits", "runtime: pyhton:3.11\n          limits"
        )
        .replace("timeout: 120000", "timeout: 12000000")
        .replace("runtime: python:3.11\n          web", "runtime: python:3.13\n          web")
    )
    # no `responses` mock is active: a request would fail the test, validate needs no server
    code, out, err = run(capsys, tmp_path, "validate", "-m", str(project), env={})
    assert code == 0 and "valid" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3
    worker = f"warning: {project}:6: project.packages.default.actions.my-worker"
    assert warnings[0].startswith(f"{worker}.runtime: runtime 'pyhton:3.11' is not a kind")
    assert "did you mean 'python:3.11'?" in warnings[0]
    assert warnings[1].startswith(f"{worker}.limits.timeout: 12000000 ms is outside every known")
    assert "OpenWhisk (default configuration) 100-300000 ms" in warnings[1]
    assert "runtime 'python:3.13' is not a python kind" in warnings[2]
    code, out, _ = run(capsys, tmp_path, "validate", "-m", str(project), "--json", env={})
    assert code == 0 and len(json.loads(out)["warnings"]) == 3


def test_validate_leaves_family_names_and_limits_some_platform_takes_alone(
    capsys, tmp_path, project
) -> None:
    project.write_text(
        MANIFEST.replace(
            "runtime: python:3.11\n          limits", "runtime: python:default\n          limits"
        ).replace("timeout: 120000", "timeout: 3600000\n            concurrency: 200")
    )
    code, _, err = run(capsys, tmp_path, "validate", "-m", str(project), env={})
    assert code == 0 and "warning" not in err  # Adobe I/O Runtime takes both limits


def test_plan_deploy_replan_undeploy_round_trip(capsys, tmp_path, project, whisk) -> None:
    code, out, _ = run(capsys, tmp_path, "plan", "-m", str(project))
    assert code == 0 and "+ create    action   my-worker" in out
    assert "summary: 4 to create, 0 to update, 0 to delete, 0 unchanged" in out
    assert whisk.writes == []

    code, out, _ = run(capsys, tmp_path, "deploy", "-m", str(project))
    assert code == 0
    written = [w[1] for w in whisk.writes]
    # The actions first (written in parallel: in any order), then the trigger, then the rule.
    assert sorted(written[:2]) == ["my-worker", "test"]
    assert written[2:] == ["my-worker-trigger", "async-rule"]
    worker = whisk.store[("actions", "my-worker")]
    assert worker["limits"]["timeout"] == 120000
    web = {a["key"]: a["value"] for a in whisk.store[("actions", "test")]["annotations"]}
    assert (web["web-export"], web["final"], web["raw-http"], web["provide-api-key"]) == (
        True,
        True,
        False,
        True,
    )
    assert whisk.store[("rules", "async-rule")]["action"] == "/guest/my-worker"
    assert (
        "read back my-worker: timeout 120000 ms" in out
        and "read back test: timeout 60000 ms, web" in out
    )
    assert f"{HOST}/api/v1/web/guest/default/test" in out
    assert f"curl -sS '{HOST}/api/v1/web/guest/default/test.json'" in out

    whisk.writes.clear()
    code, out, _ = run(capsys, tmp_path, "deploy", "-m", str(project))
    assert code == 0 and whisk.writes == [] and "nothing to do" in out

    project.write_text(MANIFEST.replace("timeout: 120000", "timeout: 90000"))
    code, out, _ = run(capsys, tmp_path, "plan", "-m", str(project))
    assert "~ update    action   my-worker: timeout 120000 → 90000" in out

    code, out, _ = run(capsys, tmp_path, "undeploy", "-m", str(project))
    assert code == 0 and not whisk.store
    # Rule, then trigger, then the actions (deleted in parallel: in any order).
    deleted = [w[1] for w in whisk.writes]
    assert deleted[:2] == ["async-rule", "my-worker-trigger"]
    assert sorted(deleted[2:]) == ["my-worker", "test"]


def test_the_curl_line_sends_the_web_actions_sample_input(capsys, tmp_path, project, whisk) -> None:
    # without one, the bundle's curl line started the worker's default 100 s job unannounced
    sampled = MANIFEST.replace(
        "          annotations:\n            provide-api-key: true\n",
        "          description: starts\n            the worker\n          annotations:\n"
        "            provide-api-key: true\n            sampleInput: {duration_ms: 2000, fast: true}\n",
    )
    project.write_text(sampled)
    code, out, _ = run(capsys, tmp_path, "deploy", "-m", str(project))
    url = f"{HOST}/api/v1/web/guest/default/test"
    assert (
        code == 0
        and f"    starts the worker\n    curl -sS '{url}.json?duration_ms=2000&fast=true'\n" in out
    )
    project.write_text(sampled.replace("{duration_ms: 2000, fast: true}", "{job: {ms: 2000}}"))
    code, out, _ = run(capsys, tmp_path, "urls", "-m", str(project), "--json")
    [entry] = json.loads(out)["urls"]
    assert entry["curl"] == (
        f"curl -sS -H 'Content-Type: application/json' -d '{{\"job\":{{\"ms\":2000}}}}' '{url}.json'"
    )


def test_deploy_refuses_to_take_over_another_projects_entity(
    capsys, tmp_path, project, whisk
) -> None:
    whisk.store[("triggers", "my-worker-trigger")] = {
        "name": "my-worker-trigger",
        "annotations": [{"key": "whisk-managed", "value": {"projectName": "other"}}],
    }
    code, _, err = run(capsys, tmp_path, "deploy", "-m", str(project))
    assert code == 2 and "belongs to project 'other'" in err and "--force" in err
    assert whisk.writes == []
    assert run(capsys, tmp_path, "deploy", "-m", str(project), "--force")[0] == 0


def test_plan_refuses_what_deploy_would_refuse(capsys, tmp_path, project, whisk) -> None:
    # made by hand (no whisk-managed annotation): deploy refuses it, so plan must not pass it
    whisk.store[("triggers", "my-worker-trigger")] = {"name": "my-worker-trigger"}
    code, out, err = run(capsys, tmp_path, "plan", "-m", str(project))
    assert code == 2 and "conflict: trigger my-worker-trigger already exists" in out
    assert "belongs to no project" in err and "--force" in err
    assert run(capsys, tmp_path, "deploy", "-m", str(project))[0] == code
    code, out, _ = run(capsys, tmp_path, "plan", "-m", str(project), "--json")
    assert code == 2 and json.loads(out)["exitCode"] == 2  # still one document
    code, out, err = run(capsys, tmp_path, "plan", "-m", str(project), "--force")
    assert code == 0 and "--force: taking it over" in out
    assert "~ update    trigger  my-worker-trigger: not managed by any project" in out
    assert whisk.writes == []


def test_json_output_is_one_document(capsys, tmp_path, project, whisk) -> None:
    code, out, _ = run(capsys, tmp_path, "plan", "-m", str(project), "--json")
    document = json.loads(out)
    assert code == 0 and document["plan"]["summary"]["create"] == 4
    assert document["target"] == {"apihost": HOST, "namespace": "guest", "source": "env WHISK_*"}


def test_server_rejecting_the_key_exits_1_with_a_hint(capsys, tmp_path, project, rsps) -> None:
    rsps.get(f"{HOST}/", json=INFO)
    rsps.get(
        f"{NS}/packages",
        status=401,
        json={"error": "The supplied authentication is invalid", "code": "t1"},
    )
    code, _, err = run(capsys, tmp_path, "plan", "-m", str(project))
    assert code == 1 and "HTTP 401" in err and "WHISK_AUTH" in err


def test_invoke_blocking_result_and_failure_exit_codes(capsys, tmp_path, rsps) -> None:
    headers = {"x-openwhisk-activation-id": "a" * 32}
    rsps.post(f"{NS}/actions/my-worker", json={"done": True}, headers=headers)
    rsps.post(f"{NS}/actions/my-worker", status=502, json={"error": "boom"}, headers=headers)
    code, out, _ = run(capsys, tmp_path, "invoke", "my-worker", "-p", "n", "3", "--result")
    assert code == 0 and json.loads(out) == {"done": True}
    assert json.loads(rsps.calls[0].request.body) == {"n": 3}
    code, out, err = run(capsys, tmp_path, "invoke", "my-worker", "--result")
    assert code == 1 and "boom" in out and "failed (HTTP 502" in err


def test_fire_wait_follows_the_rule_to_the_action_result(capsys, tmp_path, rsps) -> None:
    trigger_id, action_id = "t" * 32, "b" * 32
    log = json.dumps(
        {
            "statusCode": 0,
            "success": True,
            "activationId": action_id,
            "rule": "guest/async-rule",
            "action": "guest/my-worker",
        }
    )
    rsps.post(f"{NS}/triggers/my-worker-trigger", status=202, json={"activationId": trigger_id})
    rsps.get(
        f"{NS}/activations/{trigger_id}",
        json={
            "activationId": trigger_id,
            "logs": [log],
            "response": {"status": "success", "success": True},
        },
    )
    rsps.get(f"{NS}/activations/{action_id}", status=404, json={"error": "not yet"})
    rsps.get(f"{NS}/actions/my-worker?code=false", json={"limits": {"timeout": 120000}})
    rsps.get(
        f"{NS}/activations/{action_id}",
        json={
            "end": 5,
            "response": {"status": "success", "success": True, "result": {"done": True}},
        },
    )
    code, out, err = run(capsys, tmp_path, "fire", "my-worker-trigger", "--wait")
    assert code == 0 and f"trigger activation id: {trigger_id}" in err
    assert f"rule guest/async-rule → action guest/my-worker: activation {action_id} success" in out
    assert '"done": true' in out


def test_fire_without_active_rule_is_an_error(capsys, tmp_path, rsps) -> None:
    rsps.post(f"{NS}/triggers/t", status=204)
    code, _, err = run(capsys, tmp_path, "fire", "t")
    assert code == 1 and "no active rule" in err


def test_activation_wait_gives_up_at_the_timeout(capsys, tmp_path, rsps) -> None:
    rsps.get(f"{NS}/activations/{'c' * 32}", status=404, json={"error": "nope"})
    now = itertools.chain([0.0, 0.0], itertools.repeat(100.0))
    code, _, err = run(
        capsys, tmp_path, "activation", "wait", "c" * 32, "--timeout", "5", clock=lambda: next(now)
    )
    assert code == 1 and "does not exist yet after 5 s (--timeout)" in err


def test_an_unexpected_bug_prints_a_masked_traceback(capsys, tmp_path) -> None:
    class Exploding:
        headers: dict[str, str] = {}
        auth = None

        def request(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"unexpected with {KEY}")

    code, _, err = run(capsys, tmp_path, "activation", "get", "d" * 32, session=Exploding())
    assert code == 1 and "Traceback" in err and "RuntimeError: unexpected with ***" in err


def test_failed_deploy_exits_1_and_says_what_was_not_attempted(
    capsys, tmp_path, project, whisk
) -> None:
    whisk.fail["my-worker-trigger"] = (400, {"error": "Feed name is not valid", "code": "c9"})
    code, out, err = run(capsys, tmp_path, "deploy", "-m", str(project), "--json")
    assert code == 1
    assert "failed: create trigger my-worker-trigger" in err and "Feed name is not valid" in err
    assert "not attempted: create rule async-rule" in err
    document = json.loads(out)
    assert document["ok"] is False and document["exitCode"] == 1
    assert ("rules", "async-rule") not in whisk.store


def test_activation_logs_prints_each_line(capsys, tmp_path, rsps) -> None:
    rsps.get(
        f"{NS}/activations/{'e' * 32}/logs", json={"logs": ["2024 stdout: hi", "2024 stderr: oh"]}
    )
    code, out, _ = run(capsys, tmp_path, "activation", "logs", "e" * 32)
    assert code == 0 and out.splitlines() == ["2024 stdout: hi", "2024 stderr: oh"]


def test_activation_logs_says_there_are_none_on_stderr_only(capsys, tmp_path, rsps) -> None:
    rsps.get(f"{NS}/activations/{'e' * 32}/logs", json={"logs": []})
    rsps.get(f"{NS}/activations/{'e' * 32}/logs", json={"logs": []})
    code, out, err = run(capsys, tmp_path, "activation", "logs", "e" * 32)
    assert (code, out) == (0, "") and f"(no logs: activation {'e' * 32} wrote none)" in err
    code, out, err = run(capsys, tmp_path, "activation", "logs", "e" * 32, "--json")
    assert code == 0 and json.loads(out) == {"logs": []} and "no logs" not in err


def test_key_given_as_a_flag_is_masked_even_in_early_errors(capsys, tmp_path) -> None:
    code, _, err = run(
        capsys, tmp_path, "validate", "-m", str(tmp_path / f"{SECRET}.yaml"), "--auth", KEY, env={}
    )
    assert code == 2 and "***" in err


def test_projectname_names_a_manifest_without_project_name(capsys, tmp_path, project) -> None:
    bare = project.parent / "bare.yaml"
    bare.write_text("packages:\n  default: {}\n")
    code, out, err = run(capsys, tmp_path, "validate", "-m", str(bare), "--projectname", "chosen")
    assert (code, "project chosen" in out, "warning" in err) == (0, True, False)
    code, out, err = run(capsys, tmp_path, "validate", "-m", str(bare))
    assert code == 0 and f"project {project.parent.name}" in out and "project.name: not set" in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_activation_wait_on_a_terminal_ends_its_progress_line(monkeypatch, tmp_path, rsps) -> None:
    url = f"{NS}/activations/{'f' * 32}"
    rsps.get(url, status=404, json={"error": "not yet"})
    rsps.get(f"{NS}/actions", json=[{"name": "my-worker", "limits": {"timeout": 120000}}])
    rsps.get(url, json={"end": 2, "response": {"status": "success", "success": True}})
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main(
        ["activation", "wait", "f" * 32],
        environ=ENV,
        home=tmp_path,
        session=requests_session(HOST),
        sleep=lambda s: None,
    )
    err = terminal.getvalue()
    # the line rewritten with \r is ended before anything else is printed
    assert code == 0 and "\rwaiting for activation " in err and err.endswith("3 min more\x1b[K\n")


def test_validate_takes_a_jar_for_java_and_refuses_it_for_python(capsys, tmp_path) -> None:
    (tmp_path / "app.jar").write_bytes(b"PK\x03\x04" + bytes(range(256)))
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "project:\n  name: jars\n  packages:\n    default:\n      actions:\n"
        "        app:\n          function: app.jar\n"
    )
    code, out, _ = run(capsys, tmp_path, "validate", "-v", "-m", str(manifest))
    assert code == 0 and "app: zip," in out  # java:default from .jar, sent as binary
    manifest.write_text(manifest.read_text() + "          runtime: python:3.11\n")
    code, _, err = run(capsys, tmp_path, "validate", "-m", str(manifest))
    assert code == 2 and "Traceback" not in err
    assert (
        f"error: {manifest}:6: project.packages.default.actions.app: action app: kind python:3.11"
        " takes a zip as binary code, found app.jar (a .jar)"
    ) in err


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_the_command_quietly(monkeypatch, capsys, tmp_path, project) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = main(["--json", "validate", "-m", str(project)], environ=ENV, home=tmp_path)
    assert code == 141 and capsys.readouterr().err == ""


def test_a_closed_pipe_leaves_no_traceback_at_exit(project) -> None:
    # The reader is gone before the tool writes: the `| head -1` case, without a shell.
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy", "--json", "validate", "-m", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin"},
    )
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err.decode()) == (141, "")


def bare_manifest(folder: Path, file: str, action: str) -> Path:
    """A manifest without project.name, so its project is named after ``folder``."""
    path = folder / file
    path.write_text(
        f"packages:\n  default:\n    actions:\n      {action}:\n"
        "        code: 'def main(a):\\n    return a\\n'\n        runtime: python:3.11\n"
    )
    return path


def test_a_manifest_named_after_its_folder_deletes_nothing_it_did_not_declare(
    capsys, tmp_path, whisk
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    first, second = (
        bare_manifest(folder, "first.yaml", "a"),
        bare_manifest(folder, "second.yaml", "b"),
    )
    assert run(capsys, tmp_path, "deploy", "-m", str(first))[0] == 0
    code, out, _ = run(capsys, tmp_path, "deploy", "-m", str(second))
    assert code == 0 and ("actions", "a") in whisk.store and ("actions", "b") in whisk.store
    assert "warning: kept, not deleted: action a: project 'shared' is named after" in out
    assert "give --projectname shared to delete them" in out and "0 to delete" in out

    code, out, _ = run(capsys, tmp_path, "undeploy", "-m", str(second))
    assert code == 0 and "- delete    action   b: declared in this manifest (shared)" in out
    assert ("actions", "a") in whisk.store and ("actions", "b") not in whisk.store

    # Named on the command line, the project is the user's word: its leftovers go.
    code, out, _ = run(capsys, tmp_path, "deploy", "-m", str(second), "--projectname", "shared")
    assert code == 0 and "- delete    action   a: removed from the manifest" in out
    assert ("actions", "a") not in whisk.store and ("actions", "b") in whisk.store
