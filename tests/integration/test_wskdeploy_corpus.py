"""wskdeploy's own manifests deploy as wskdeploy deploys them, or are refused by name.

The table is ``tests/fixtures/wskdeploy/expected.yaml`` (see ``wskdeploy_corpus``):

- every manifest of the fixture tree has a row;
- ``deploys``: the plan model (manifest, deployment file, bundle, kinds from the reference
  ``GET /``) gives exactly the expected entities;
- ``wskdeploy-refuses`` / ``unsupported``: this tool refuses, with the message the row names
  (an unsupported feature: every problem names it);
- against a real localwhisk, each ``deploys`` row whose kinds localwhisk runs deploys
  exactly what the plan says (read back over HTTP), redeploys as a no-op and undeploys to
  an empty namespace; the others are refused at preflight for the reason the row gives.

The counts (printed with ``-s``) are those the issue's closing note gives.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import requests
import wskdeploy_corpus as corpus
from serverprocess import GUEST_AUTH

from deploy.cli import main
from deploy.errors import DeployError
from deploy.routes import current_routes

TABLE = corpus.load_table()["cases"]
CASES = sorted(TABLE)
KEY = ":".join(GUEST_AUTH)
APIMGMT = "/api/v1/web/whisk.system/apimgmt"


def by_outcome(*outcomes: str) -> list[str]:
    return [case for case in CASES if TABLE[case]["outcome"] in outcomes]


def test_every_manifest_of_the_tree_has_a_row_and_every_row_a_known_outcome():
    assert sorted(corpus.manifests()) == CASES
    assert {TABLE[c]["outcome"] for c in CASES} <= set(corpus.OUTCOMES)


def test_the_counts(capsys):
    counts = Counter(TABLE[c]["outcome"] for c in CASES)
    feeds = [
        c
        for c in by_outcome("deploys")
        if any(k.startswith("trigger ") and "feed" in v for k, v in TABLE[c]["entities"].items())
    ]
    local = [c for c in by_outcome("deploys") if "localwhisk" not in TABLE[c]]
    with capsys.disabled():
        print(
            f"\nwskdeploy corpus: {len(CASES)} manifests: {counts['deploys']} deploy with"
            f" wskdeploy's entities ({len(local)} of them to localwhisk too, {len(feeds)} with"
            f" feed triggers), {counts['wskdeploy-refuses']} refused by wskdeploy and by us,"
            f" {counts['unsupported']} refused as unsupported"
        )
    assert sum(counts.values()) == len(CASES)


@pytest.mark.parametrize("case", by_outcome("deploys"))
def test_the_plan_has_wskdeploys_entities(case):
    row = TABLE[case]
    assert corpus.plan_model(case, row) == row["entities"]


@pytest.mark.parametrize("case", by_outcome("wskdeploy-refuses"))
def test_what_wskdeploy_refuses_is_refused(case):
    row = TABLE[case]
    refused = corpus.refusal(case, row)
    assert refused is not None, f"deployable, but wskdeploy refuses it: {row['why']}"
    assert row["ours"] in refused


@pytest.mark.parametrize("case", by_outcome("unsupported"))
def test_an_unsupported_feature_is_refused_naming_it(case):
    row = TABLE[case]
    with pytest.raises(DeployError) as caught:
        corpus.plan_model(case, row)
    problems = getattr(caught.value, "problems", [str(caught.value)])
    assert problems
    for problem in problems:
        assert any(reason in problem for reason in row["reasons"]), problem


# ---- against localwhisk -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Any:
    proc = start_localwhisk(tmp_path_factory.mktemp("corpus-data"))
    yield proc
    proc.stop()


def run(server: Any, home: Path, case: str, *args: str) -> tuple[int, dict[str, Any], str]:
    row = TABLE[case]
    argv = [*args, "-m", str(corpus.ROOT / case), "--json"]
    if row.get("deployment"):
        argv += ["-d", str(corpus.ROOT / row["deployment"])]
    environ = {**(row.get("env") or {}), "WHISK_APIHOST": server.url, "WHISK_AUTH": KEY}
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv, environ=environ, home=home)
    text = out.getvalue()
    return code, json.loads(text) if text.strip() else {}, err.getvalue()


def everything(server: Any) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for collection in ("packages", "actions", "triggers", "rules"):
        response = requests.get(
            f"{server.url}/api/v1/namespaces/_/{collection}",
            params={"limit": 200},
            auth=GUEST_AUTH,
            timeout=30,
        )
        response.raise_for_status()
        found[collection] = response.json()
    found["apis"] = apis(server)
    return found


def apis(server: Any) -> list[dict[str, Any]]:
    """The namespace's API gateway APIs (route management's getApi)."""
    response = requests.get(f"{server.url}{APIMGMT}/getApi.http", auth=GUEST_AUTH, timeout=30)
    response.raise_for_status()
    return response.json()["apis"]


def read_back(server: Any, plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each planned entity as the server now holds it, shaped like the plan model."""
    out = {}
    routes = {e.name: e for e in current_routes(apis(server), {}, "_")}
    for change in plan["changes"]:
        kind, name = change["kind"], change["name"]
        if kind == "api":
            assert name in routes, (name, sorted(routes))
            out[f"api {name}"] = corpus.shape_body("api", routes[name].body)
            continue
        collection = "actions" if kind == "sequence" else f"{kind}s"
        response = requests.get(
            f"{server.url}/api/v1/namespaces/_/{collection}/{name}",
            params={"code": "false"} if collection == "actions" else None,
            auth=GUEST_AUTH,
            timeout=30,
        )
        assert response.status_code == 200, (kind, name, response.text)
        out[f"{kind} {name}"] = corpus.shape_body(kind, response.json())
    return out


def comparable(
    shaped: dict[str, dict[str, Any]], info: dict[str, Any], desired: bool = False
) -> dict[str, dict[str, Any]]:
    """What a server document and a desired body both carry: not the code (GET omits it).

    A desired entity is shaped as the server shows it back (the controller's behaviour):
    ``<family>:default`` as the concrete kind, a binding's ``_`` as the namespace, and an
    action's inputs merged over its package's parameters, as a GET of the action shows.
    """
    defaults = {
        family: entry["kind"]
        for family, entries in (info.get("runtimes") or {}).items()
        for entry in entries
        if entry.get("default")
    }
    out = {}
    for key, fields in shaped.items():
        fields = {f: v for f, v in fields.items() if f != "zip"}
        if desired:
            kind, _, name = key.partition(" ")
            family, _, version = str(fields.get("kind", "")).partition(":")
            if version == "default" and family in defaults:
                fields["kind"] = defaults[family]
            if str(fields.get("binding", "")).startswith("/_/"):
                fields["binding"] = f"/{corpus.NAMESPACE}/" + fields["binding"][3:]
            package = shaped.get(f"package {name.partition('/')[0]}") if "/" in name else None
            if kind == "action" and package and (package.get("inputs") or fields.get("inputs")):
                fields["inputs"] = {**package.get("inputs", {}), **fields.get("inputs", {})}
        out[key] = fields
    return out


def clean(server: Any) -> None:
    """Delete whatever a failed case left, so the next case starts from nothing."""
    for api in apis(server):
        base = api["value"]["apidoc"]["basePath"]
        requests.delete(
            f"{server.url}{APIMGMT}/deleteApi.http",
            params={"basepath": base},
            auth=GUEST_AUTH,
            timeout=30,
        )
    for collection in ("rules", "triggers", "actions", "packages"):
        for entity in everything(server)[collection]:
            name = entity["name"]
            if collection == "actions" and "/" in entity.get("namespace", ""):
                name = f"{entity['namespace'].split('/', 1)[1]}/{name}"
            requests.delete(
                f"{server.url}/api/v1/namespaces/_/{collection}/{name}",
                auth=GUEST_AUTH,
                timeout=30,
            )


@pytest.mark.parametrize("case", by_outcome("deploys"))
def test_it_deploys_to_localwhisk_exactly_and_undeploys_to_nothing(server, tmp_path, case):
    try:
        deploy_and_undeploy(server, tmp_path, case)
    finally:
        clean(server)


def deploy_and_undeploy(server: Any, tmp_path: Path, case: str) -> None:
    row = TABLE[case]
    if row.get("before"):
        for first in row["before"]:
            code, _, err = run(server, tmp_path, first, "deploy")
            assert code == 0, err
    refused = row.get("localwhisk")
    code, report, err = run(server, tmp_path, case, "deploy")
    if refused:
        assert code != 0 and refused in err, err
    else:
        assert code == 0, err
        planned = {
            f"{c['kind']} {c['name']}": c for c in report["plan"]["changes"] if c["op"] == "create"
        }
        assert len(planned) == len(report["plan"]["changes"]), "the namespace was not empty"
        held = read_back(server, report["plan"])
        code, plan, err = run(server, tmp_path, case, "plan")
        assert code == 0 and plan["plan"]["summary"]["unchanged"] == len(held), err
        info = requests.get(server.url, timeout=30).json()
        desired = corpus.plan_model_for(case, row, info)
        assert comparable(held, info) == comparable(desired, info, desired=True)
    code, _, err = run(server, tmp_path, case, "undeploy")
    assert code == 0, err
    for first in reversed(row.get("before") or []):
        assert run(server, tmp_path, first, "undeploy")[0] == 0
    assert everything(server) == {
        "packages": [],
        "actions": [],
        "triggers": [],
        "rules": [],
        "apis": [],
    }
