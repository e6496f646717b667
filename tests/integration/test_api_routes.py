"""API gateway routes on a real localwhisk: created as ``wsk api create`` creates them, then
called like ``curl`` (plain requests, no credentials), answered by a real Python web action."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from lw_client import NS, Client, code, unique

pytestmark = pytest.mark.integration

MGMT = "/api/v1/web/whisk.system/apimgmt"
BOOKS = """
def main(args):
    parts = args.get("__ow_path", "").strip("/").split("/")
    isbn = parts[2] if len(parts) > 2 else None
    return {
        "statusCode": 201 if args["__ow_method"] == "post" else 200,
        "headers": {"X-Book": isbn or "all"},
        "body": {"isbn": isbn, "method": args["__ow_method"], "title": args.get("title")},
    }
"""
HELLO = "def main(args):\n    return {'greeting': 'hello ' + args.get('name', 'world')}\n"


def create(api: Client, base: str, path: str, verb: str, action: str, rtype: str) -> dict:
    """POST createApi with the body and query ``wsk api create`` sends."""
    uuid, key = api.session.auth
    apidoc = {
        "namespace": "_",
        "gatewayBasePath": base,
        "gatewayPath": path,
        "gatewayMethod": verb,
        "id": f"API:_:{base}",
        "action": {
            "name": action,
            "namespace": "_",
            "backendMethod": verb,
            "backendUrl": f"{api.url}/api/v1/web/_/default/{action}.http",
            "authkey": f"{uuid}:{key}",
        },
    }
    if "{" in path:
        apidoc["pathParameters"] = [{"name": "isbn", "in": "path", "required": True}]
    query = {"responsetype": rtype, "accesstoken": "DUMMY TOKEN", "spaceguid": uuid}
    response = api.post(f"{MGMT}/createApi.http", {"apidoc": apidoc}, params=query)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def actions(api: Client) -> Iterator[tuple[str, str, str]]:
    books, hello, base = unique("books"), unique("hello"), "/" + unique("club")
    web = {"annotations": [{"key": "web-export", "value": True}]}
    for name, source in ((books, BOOKS), (hello, HELLO)):
        assert api.put(f"{NS}/actions/{name}", code(source, **web)).status_code == 200
    yield books, hello, base
    api.delete(f"{MGMT}/deleteApi.http", params={"basepath": base})
    for name in (books, hello):
        api.delete(f"{NS}/actions/{name}")


def test_routes_with_path_parameters_reach_the_web_action(api: Client, actions) -> None:
    books, hello, base = actions
    created = create(api, base, "/books/{isbn}", "GET", books, "http")
    create(api, base, "/books", "POST", books, "http")
    create(api, base, "/hello", "GET", hello, "json")
    url = created["gwApiUrl"]
    assert url == f"{api.url}/api/{api.session.auth[0]}{base}"

    one = requests.get(f"{url}/books/978-0596517748", timeout=90)
    assert one.status_code == 200, one.text
    assert one.json() == {"isbn": "978-0596517748", "method": "get", "title": None}
    assert one.headers["X-Book"] == "978-0596517748"

    added = requests.post(f"{url}/books", json={"title": "The Good Parts"}, timeout=90)
    assert added.status_code == 201, added.text
    assert added.json() == {"isbn": None, "method": "post", "title": "The Good Parts"}

    hi = requests.get(f"{url}/hello", params={"name": "route"}, timeout=90)
    assert hi.status_code == 200 and hi.json() == {"greeting": "hello route"}

    wrong_verb = requests.delete(f"{url}/books", timeout=90)
    assert wrong_verb.status_code == 404
    assert wrong_verb.json() == {"status": 404, "message": "Error: Whoops. Verb not supported."}


def test_the_api_lists_and_its_routes_go_with_it(api: Client, actions) -> None:
    books, _, base = actions
    create(api, base, "/books/{isbn}", "GET", books, "http")
    listed = api.get(f"{MGMT}/getApi.http", params={"basepath": base}).json()
    [item] = listed["apis"]
    operation = item["value"]["apidoc"]["paths"]["/books/{isbn}"]["get"]
    assert operation["x-openwhisk"]["action"] == books
    assert operation["x-openwhisk"]["namespace"] == "guest"

    gone = api.delete(f"{MGMT}/deleteApi.http", params={"basepath": base})
    assert gone.status_code == 200 and gone.json() == {}
    after = requests.get(f"{item['value']['gwApiUrl']}/books/1", timeout=90)
    assert after.status_code == 404 and after.json()["message"] == "Error: Not found."
