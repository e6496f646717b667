"""Good manifests load into the specs wskdeploy would deploy (the bad ones: test_manifest_errors)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from deploy.errors import ManifestError
from deploy.manifest.loader import find_manifest, load_manifest, manifests_beside
from deploy.models import Limits, Manifest, Where

REPO = Path(__file__).resolve().parents[3]


def write(root: Path, text: str) -> Path:
    (root / "actions" / "hello").mkdir(parents=True, exist_ok=True)
    (root / "actions" / "hello" / "__main__.py").write_text("def main(args):\n    return args\n")
    (root / "hello.py").write_text("def main(args):\n    return args\n")
    manifest = root / "manifest.yaml"
    manifest.write_text(text)
    return manifest


def load(root: Path, text: str, environ: dict[str, str] | None = None, **kwargs: Any) -> Manifest:
    """``text`` written as ``root``'s manifest (with its action sources), then loaded."""
    return load_manifest(write(root, text), {} if environ is None else environ, **kwargs)


def one_action(tmp_path: Path, body: str, environ: dict[str, str] | None = None):
    lines = "".join(f"          {line}\n" for line in body.strip("\n").splitlines())
    text = f"project:\n  name: demo\n  packages:\n    default:\n      actions:\n        hello:\n{lines}"
    manifest = load_manifest(write(tmp_path, text), environ or {})
    (action,) = manifest.actions
    return action, manifest


class TestShapes:
    def test_the_repositorys_manifest_loads_as_the_async_pattern(self):
        manifest = load_manifest(REPO / "manifest.yaml", {})
        assert manifest.project == "openwhisk-async"
        assert manifest.packages == ()
        worker, status, web = manifest.actions
        assert (worker.path, worker.runtime, worker.limits) == (
            "my-worker",
            "python:3.11",
            Limits(timeout=120000),
        )
        assert worker.function == REPO / "actions" / "worker"
        assert web.annotations == {
            "provide-api-key": True,
            "web-export": True,
            "raw-http": False,
            "final": True,
            # the curl line deploy prints sends it: a 2 s job, where no input means 100 s
            "sampleInput": {"duration_ms": 2000},
            "description": "starts my-worker and answers with its activation id; the job "
            "sleeps duration_ms (default 100000 ms)",
        }
        assert web.inputs == {"worker_action": "my-worker", "status_action": "status"}
        # the status web action is test's own folder with another entry point
        assert (status.path, status.function, status.main) == ("status", web.function, "status")
        assert status.annotations["provide-api-key"] is True
        assert status.inputs == {"worker_action": "my-worker"}
        assert [t.name for t in manifest.triggers] == ["my-worker-trigger"]
        (rule,) = manifest.rules
        assert (rule.name, rule.trigger, rule.action) == (
            "async-rule",
            "my-worker-trigger",
            "my-worker",
        )
        assert manifest.warnings == ()

    def test_digest_is_the_sha256_of_the_file_bytes_and_where_names_the_entry(self, tmp_path):
        action, manifest = one_action(tmp_path, "function: hello.py")
        assert manifest.digest == hashlib.sha256(manifest.file.read_bytes()).hexdigest()
        assert action.where == Where(
            str(manifest.file), 6, "project.packages.default.actions.hello"
        )

    def test_a_named_package_prefixes_its_actions_sequences_and_rule_targets(self, tmp_path):
        manifest = load(
            tmp_path,
            """\
project:
  name: demo
  packages:
    shop:
      public: true
      description: the shop
      inputs: {currency: EUR}
      annotations: {team: web}
      actions:
        cart: {function: hello.py}
        pay: {function: hello.py}
      sequences:
        checkout: {actions: "cart, pay, other/audit"}
      triggers:
        order-placed: {}
      rules:
        on-order: {trigger: order-placed, action: checkout}
""",
        )
        (package,) = manifest.packages
        assert (package.name, package.publish, package.inputs) == (
            "shop",
            True,
            {"currency": "EUR"},
        )
        assert package.annotations == {"team": "web", "description": "the shop"}
        assert [a.path for a in manifest.actions] == ["shop/cart", "shop/pay"]
        (sequence,) = manifest.sequences
        assert sequence.path == "shop/checkout"
        assert sequence.components == ("shop/cart", "shop/pay", "other/audit")
        assert manifest.triggers[0].name == "order-placed"  # triggers are namespace-level
        assert manifest.rules[0].action == "shop/checkout"
        assert manifest.warnings == (
            f"{manifest.file}:13: project.packages.shop.sequences.checkout.actions: action"
            " 'other/audit' is not in this manifest; it must already exist on the server",
        )

    def test_bare_packages_need_a_fallback_project_name(self, tmp_path):
        path = write(
            tmp_path, "packages:\n  default:\n    actions:\n      hello: {function: hello.py}\n"
        )
        manifest = load_manifest(path, {}, project_name="fallback")
        assert manifest.project == "fallback"
        assert [a.path for a in manifest.actions] == ["hello"]

    def test_bare_packages_win_over_project_packages_with_a_warning(self, tmp_path):
        manifest = load(
            tmp_path,
            """\
project:
  name: demo
  namespace: team-ns
  packages:
    ignored: {}
packages:
  used: {}
""",
        )
        assert [p.name for p in manifest.packages] == ["used"]
        assert manifest.namespace == "team-ns"
        assert manifest.warnings == (
            f"{manifest.file}:4: project.packages: ignored: top-level packages is also given and wins (as in wskdeploy)",
        )

    def test_legacy_keys_load_with_warnings(self, tmp_path):
        manifest = load(
            tmp_path,
            """\
application:
  name: old
package:
  name: legacy
  version: 1.0.0
  actions:
    hello:
      location: hello.py
      web-export: true
  triggers:
    tick:
      source: /whisk.system/alarms/alarm
  rules:
    every-tick: {trigger: tick, action: hello}
""",
        )
        assert manifest.project == "old"
        assert [a.path for a in manifest.actions] == ["legacy/hello"]
        assert manifest.actions[0].annotations["web-export"] is True
        assert manifest.triggers[0].feed == "/whisk.system/alarms/alarm"
        assert manifest.rules[0].action == "legacy/hello"
        file = manifest.file
        assert manifest.warnings == (
            f"{file}:1: application: legacy key: write project instead",
            f"{file}:3: package: legacy key: write packages: {{<name>: ...}} instead",
            f"{file}:5: package.version: ignored: OpenWhisk assigns versions itself",
            f"{file}:8: package.actions.hello.location: legacy key: write function instead",
            f"{file}:9: package.actions.hello.web-export: legacy key: write web instead",
            f"{file}:12: package.triggers.tick.source: legacy key: write feed instead",
        )

    def test_rules_may_name_entities_that_only_exist_on_the_server(self, tmp_path):
        manifest = load(
            tmp_path,
            """\
project:
  name: demo
  packages:
    default:
      rules:
        r: {trigger: elsewhere, action: pkg/remote}
""",
        )
        assert manifest.rules[0].action == "pkg/remote"
        assert [w.split(": ", 2)[1] for w in manifest.warnings] == [
            "project.packages.default.rules.r.trigger",
            "project.packages.default.rules.r.action",
        ]


class TestActions:
    @pytest.mark.parametrize(
        ("web", "annotations"),
        [
            ("true", {"web-export": True, "raw-http": False, "final": True}),
            ("yes", {"web-export": True, "raw-http": False, "final": True}),
            ("'YES'", {"web-export": True, "raw-http": False, "final": True}),
            ("'True'", {"web-export": True, "raw-http": False, "final": True}),
            ("raw", {"web-export": True, "raw-http": True, "final": True}),
            ("Raw", {"web-export": True, "raw-http": True, "final": True}),
            ("false", {"web-export": False, "raw-http": False, "final": False}),
            ("no", {"web-export": False, "raw-http": False, "final": False}),
        ],
    )
    def test_web_flag_maps_to_annotations_as_wskdeploy_does(self, tmp_path, web, annotations):
        action, _ = one_action(tmp_path, f"function: hello.py\nweb: {web}")
        assert action.annotations == annotations

    def test_web_overwrites_user_raw_http_and_final_and_wins_over_web_export(self, tmp_path):
        action, manifest = one_action(
            tmp_path,
            """\
function: hello.py
web: true
web-export: false
annotations: {raw-http: true, final: false, custom: 1}
""",
        )
        assert action.annotations == {
            "raw-http": False,
            "final": True,
            "custom": 1,
            "web-export": True,
        }
        assert manifest.warnings == (
            f"{manifest.file}:9: project.packages.default.actions.hello.web-export:"
            " legacy key ignored: web is also given and wins",
        )

    def test_raw_http_key_and_require_whisk_auth_become_annotations(self, tmp_path):
        action, _ = one_action(
            tmp_path, "function: hello.py\nweb: true\nraw-http: true\nrequire-whisk-auth: 42"
        )
        assert action.annotations == {
            "web-export": True,
            "raw-http": True,
            "final": True,
            "require-whisk-auth": 42,
        }

    @pytest.mark.parametrize("value", ["true", "false", "'s3cret'", "9007199254740991"])
    def test_require_whisk_auth_accepts_bools_strings_and_safe_integers(self, tmp_path, value):
        action, _ = one_action(
            tmp_path, f"function: hello.py\nweb: yes\nrequire-whisk-auth: {value}"
        )
        assert "require-whisk-auth" in action.annotations

    def test_runtime_is_inferred_from_a_py_file_and_description_is_an_annotation(self, tmp_path):
        action, _ = one_action(
            tmp_path, "function: hello.py\nmain: handler\ndescription: says hello"
        )
        assert (action.runtime, action.main, action.function) == (
            "python:default",
            "handler",
            tmp_path / "hello.py",
        )
        assert action.annotations == {"description": "says hello"}

    def test_inline_code_needs_only_a_runtime(self, tmp_path):
        action, _ = one_action(tmp_path, "code: 'def main(a): return a'\nruntime: python:3.11")
        assert (action.code, action.function, action.runtime) == (
            "def main(a): return a",
            None,
            "python:3.11",
        )

    def test_limits_accept_aio_spellings_with_a_note_and_log_size_zero(self, tmp_path):
        action, manifest = one_action(
            tmp_path,
            """\
function: hello.py
limits: {timeout: 1000, memory: 512, logSize: 0, concurrentActivations: 4}
""",
        )
        # concurrentActivations is a namespace limit: wskdeploy ignores it, so do we (said).
        assert action.limits == Limits(timeout=1000, memory=512, logs=0)
        assert [w.split(": ", 2)[1:] for w in manifest.warnings] == [
            [
                "project.packages.default.actions.hello.limits.concurrentActivations",
                "ignored: it is a namespace limit, not settable per action, and wskdeploy"
                " ignores it too; write concurrency for activations per container",
            ],
            ["project.packages.default.actions.hello.limits.memory", ANY],
        ]

    def test_include_sources_resolve_against_the_manifest_folder(self, tmp_path):
        action, _ = one_action(
            tmp_path,
            """\
function: actions/hello
runtime: python:3.11
include: [[lib/*.py, lib/], [README.md]]
exclude: ["*.txt"]
""",
        )
        assert action.include == (
            (str(tmp_path / "lib/*.py"), "lib/"),
            (str(tmp_path / "README.md"), "README.md"),
        )
        assert action.exclude == (str(tmp_path / "*.txt"),)


class TestInputsAndVariables:
    def test_input_forms_and_types(self, tmp_path):
        action, _ = one_action(
            tmp_path,
            """\
function: hello.py
inputs:
  plain: hi
  count: 3
  declared_string: string
  declared_int: integer
  declared_json: json
  ratio: {type: float, value: 2}
  fallback: {type: boolean, default: true}
  config: {type: json, value: '{"a": [1, 2]}'}
  tags: {type: slice, value: [a, b]}
  empty: {type: string, description: nothing given}
  mapping: {a: 1}
""",
        )
        assert action.inputs == {
            "plain": "hi",
            "count": 3,
            "declared_string": "",
            "declared_int": 0,
            "declared_json": {},
            "ratio": 2.0,
            "fallback": True,
            "config": {"a": [1, 2]},
            "tags": ["a", "b"],
            "empty": "",
            "mapping": {"a": 1},
        }

    def test_dollar_variables_escape_and_typed_inputs(self, tmp_path):
        environ = {"HOST": "example.com", "PORT": "8080", "NAME": "greeter"}
        action, _ = one_action(
            tmp_path,
            """\
function: $FUNCTION_FILE
inputs:
  url: https://${HOST}:${PORT}/api
  port: {type: integer, value: $PORT}
  literal: $${HOST}
  whole: $HOST
annotations:
  owner: team-${NAME}
""",
            {**environ, "FUNCTION_FILE": "hello.py"},
        )
        assert action.inputs == {
            "url": "https://example.com:8080/api",
            "port": 8080,
            "literal": "${HOST}",
            "whole": "example.com",
        }
        assert action.annotations == {"owner": "team-greeter"}

    def test_project_inputs_are_looked_up_before_the_environment(self, tmp_path):
        manifest = load(
            tmp_path,
            """\
project:
  name: demo
  inputs: {TIMEOUT: 5, PKG: shop}
  packages:
    $PKG:
      actions:
        hello: {function: hello.py, inputs: {timeout: $TIMEOUT}}
""",
            {"TIMEOUT": "9", "PKG": "ignored"},
        )
        assert manifest.packages[0].name == "shop"
        assert manifest.actions[0].inputs == {"timeout": 5}

    def test_jinja_renders_env_before_yaml_and_defaults_work(self, tmp_path):
        manifest = load(
            tmp_path,
            """\
project:
  name: {{ env.PROJECT }}
  packages:
    default:
      actions:
        hello:
          function: hello.py
          inputs:
            stage: {{ env.STAGE | default('dev') }}
{% if env.WEB is defined %}
          web: {{ env.WEB }}
{% endif %}
""",
            {"PROJECT": "from-env", "WEB": "raw"},
        )
        assert manifest.project == "from-env"
        assert manifest.actions[0].inputs == {"stage": "dev"}
        assert manifest.actions[0].annotations["raw-http"] is True


class TestFindManifest:
    def test_prefers_manifest_yaml_then_manifest_yml(self, tmp_path):
        (tmp_path / "manifest.yml").write_text("x")
        assert find_manifest(tmp_path) == tmp_path / "manifest.yml"
        (tmp_path / "manifest.yaml").write_text("x")
        assert find_manifest(tmp_path) == tmp_path / "manifest.yaml"

    def test_a_file_is_taken_as_is_and_an_empty_folder_is_an_error(self, tmp_path):
        assert find_manifest(tmp_path / "other.yaml") == tmp_path / "other.yaml"
        with pytest.raises(ManifestError) as caught:
            find_manifest(tmp_path)
        assert caught.value.problems == [
            f"{tmp_path}: expected manifest.yaml or manifest.yml in this folder, found neither"
        ]


def test_manifests_beside_lists_the_variants_in_the_same_folder(tmp_path) -> None:
    for name in ("manifest.yaml", "manifest.nodejs.yaml", "manifest.yml", "other.yaml"):
        (tmp_path / name).write_text("project: {}\n")
    (tmp_path / "manifest.old.yaml.bak").write_text("")
    (tmp_path / "manifest.dir.yaml").mkdir()
    assert manifests_beside(tmp_path / "manifest.yaml") == [
        tmp_path / "manifest.nodejs.yaml",
        tmp_path / "manifest.yml",
    ]
    assert manifests_beside(tmp_path / "missing" / "manifest.yaml") == []
