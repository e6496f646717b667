"""A deployment file binds inputs, annotations and the namespace as wskdeploy binds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import ManifestError
from deploy.manifest.deployment import bind_deployment, find_deployment
from deploy.manifest.loader import load_manifest
from deploy.settings import resolve_settings

MANIFEST = """\
project:
  name: demo
  namespace: from-manifest
  packages:
    pkg:
      inputs: {region: eu, tier: free}
      actions:
        greeting:
          function: hello.py
          inputs: {name: string, place: string}
          annotations: {owner: me}
      triggers:
        tick: {inputs: {every: 5}}
"""


def project(tmp_path: Path, deployment: str | None, name: str = "deployment.yaml") -> Path:
    (tmp_path / "hello.py").write_text("def main(args):\n    return args\n")
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    if deployment is not None:
        (tmp_path / name).write_text(deployment)
    return tmp_path / "manifest.yaml"


def bound(tmp_path: Path, deployment: str, environ: dict[str, str] | None = None):
    path = project(tmp_path, deployment)
    manifest = load_manifest(path, environ or {})
    found = find_deployment(path, None)
    assert found == tmp_path / "deployment.yaml"
    return bind_deployment(manifest, found, environ or {})


def test_inputs_and_annotations_replace_and_add_per_entity(tmp_path):
    manifest = bound(
        tmp_path,
        """\
project:
  name: demo
  packages:
    pkg:
      inputs: {tier: paid}
      annotations: {team: blue}
      actions:
        greeting:
          inputs: {name: Bernie, place: $PLACE, extra: {value: 3}}
          annotations: {owner: you}
      triggers:
        tick: {inputs: {every: 60}}
""",
        {"PLACE": "Vermont"},
    )
    (action,) = manifest.actions
    assert action.inputs == {"name": "Bernie", "place": "Vermont", "extra": 3}
    assert action.annotations == {"owner": "you"}
    (package,) = manifest.packages
    assert package.inputs == {"region": "eu", "tier": "paid"}
    assert package.annotations == {"team": "blue"}
    assert manifest.triggers[0].inputs == {"every": 60}


def test_the_yml_spelling_is_found_too_and_d_names_any_file(tmp_path):
    path = project(tmp_path, "packages: {}\n", name="deployment.yml")
    assert find_deployment(path, None) == tmp_path / "deployment.yml"
    (tmp_path / "prod.yaml").write_text("packages: {}\n")
    assert find_deployment(path, str(tmp_path / "prod.yaml")) == tmp_path / "prod.yaml"
    with pytest.raises(ManifestError) as caught:
        find_deployment(path, str(tmp_path / "gone.yaml"))
    assert "expected a deployment file, found nothing there" in str(caught.value)


def test_no_deployment_file_is_no_binding(tmp_path):
    assert find_deployment(project(tmp_path, None), None) is None


def test_its_namespace_ranks_above_the_manifests_and_below_the_environment(tmp_path):
    manifest = bound(tmp_path, "project:\n  name: demo\n  namespace: staging\n")
    assert manifest.deployment_namespace == "staging"
    env = {"WHISK_APIHOST": "https://ow.example", "WHISK_AUTH": "u:k"}
    settings = resolve_settings(
        {}, env, tmp_path, manifest.namespace, manifest.deployment_namespace
    )
    assert settings.namespace == "staging"
    env["WHISK_NAMESPACE"] = "prod"
    assert resolve_settings({}, env, tmp_path, "m", "staging").namespace == "prod"


def test_another_projects_deployment_file_is_refused(tmp_path):
    with pytest.raises(ManifestError) as caught:
        bound(tmp_path, "project:\n  name: other\n  packages: {pkg: {}}\n")
    assert caught.value.problems == [
        f"{tmp_path / 'deployment.yaml'}:2: project.name: expected the manifest's project"
        " name 'demo' (wskdeploy refuses a deployment file of another project), found 'other'"
    ]


def test_credentials_in_the_file_are_refused(tmp_path):
    with pytest.raises(ManifestError) as caught:
        bound(tmp_path, "project:\n  name: demo\n  credential: u:k\n")
    assert "project.credential: expected a key a deployment file may set here" in str(caught.value)


def test_entities_the_manifest_lacks_and_other_keys_are_warnings(tmp_path):
    manifest = bound(
        tmp_path,
        """\
packages:
  pkg:
    version: 2
    actions:
      nothere: {inputs: {a: 1}}
  other: {inputs: {a: 1}}
""",
    )
    tail = [w.split(": ", 1)[1] for w in manifest.warnings if "deployment.yaml" in w]
    assert tail == [
        "packages.pkg.version: ignored: a deployment file binds only namespace, inputs and"
        " annotations (wskdeploy ignores the rest too)",
        "packages.pkg.actions.nothere: action 'pkg/nothere' is not in the manifest; nothing bound",
        "packages.other: package 'other' is not in the manifest; nothing bound",
    ]
    assert manifest.actions[0].inputs == {"name": "", "place": ""}


def test_an_unset_variable_in_it_is_an_error(tmp_path):
    with pytest.raises(ManifestError) as caught:
        bound(tmp_path, "packages:\n  pkg:\n    inputs: {tier: $TIER}\n")
    assert "expected environment variable TIER to be set" in str(caught.value)
