"""API documents and the gateway's routing table, as pure functions (apidocs, apiroutes)."""

from __future__ import annotations

import pytest

from localwhisk.api import apidocs, apiroutes
from localwhisk.api.apidocs import ApidocError
from localwhisk.models import GatewayApi

HOST = "https://ow.example"


def endpoint(path: str, method: str = "GET", action: str = "books", **extra) -> dict:
    """An ``apidoc`` as ``wsk api create`` sends it (apache/openwhisk-cli commands/api.go)."""
    return {
        "namespace": "guest",
        "gatewayBasePath": "/club",
        "gatewayPath": path,
        "gatewayMethod": method,
        "action": {
            "name": action,
            "namespace": "guest",
            "backendMethod": method,
            "backendUrl": f"{HOST}/api/v1/web/guest/default/{action}.http",
            "authkey": "uuid:key",
            **extra,
        },
    }


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/books/{isbn}", "getBooksIsbn"),
        ("post", "/books", "postBooks"),
        ("put", "/my-path/sub_dir/x.y", "putMy-pathSub_dirXY"),
        ("delete", "/BOOKS/ByISBN", "deleteBooksByisbn"),
    ],
)
def test_operation_ids_are_made_as_the_route_management_actions_make_them(method, path, expected):
    assert apidocs.operation_id(method, path) == expected


def test_an_endpoint_becomes_an_operation_and_an_invoke_of_its_web_action():
    doc = apidocs.add_endpoint(apidocs.base_doc("/club", "Book Club"), endpoint("/books"), "json")
    assert doc["info"] == {"title": "Book Club", "version": "1.0.0"}
    assert doc["paths"]["/books"]["get"] == {
        "operationId": "getBooks",
        "x-openwhisk": {
            "url": f"{HOST}/api/v1/web/guest/default/books.json",
            "namespace": "guest",
            "package": "",
            "action": "books",
        },
        "responses": {"default": {"description": "Default response"}},
    }
    [case] = doc["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert case == {
        "operations": ["getBooks"],
        "execute": [
            {
                "invoke": {
                    "target-url": f"{HOST}/api/v1/web/guest/default/books.json",
                    "verb": "keep",
                }
            }
        ],
    }


def test_http_routes_forward_the_request_path_and_secured_actions_get_their_header():
    doc = apidocs.add_endpoint(
        apidocs.base_doc("/club", None),
        endpoint("/books/{isbn}", action="shop/books", secureKey="s3cret"),
        "http",
    )
    operation = doc["paths"]["/books/{isbn}"]["get"]
    assert operation["x-openwhisk"]["package"] == "shop"
    assert operation["x-openwhisk"]["url"] == f"{HOST}/api/v1/web/guest/shop/books.http"
    [case] = doc["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert case["execute"] == [
        {
            "invoke": {
                "target-url": f"{HOST}/api/v1/web/guest/shop/books.http$(request.path)",
                "verb": "keep",
            }
        },
        {
            "set-variable": {
                "actions": [{"set": "message.headers.X-Require-Whisk-Auth", "value": "s3cret"}]
            }
        },
    ]


def test_adding_an_endpoint_again_replaces_it_and_others_are_kept():
    doc = apidocs.base_doc("/club", None)
    doc = apidocs.add_endpoint(doc, endpoint("/books"), "json")
    doc = apidocs.add_endpoint(doc, endpoint("/books", "POST", "add"), "json")
    doc = apidocs.add_endpoint(doc, endpoint("/books", action="list"), "text")
    assert sorted(doc["paths"]["/books"]) == ["get", "post"]
    assert doc["paths"]["/books"]["get"]["x-openwhisk"]["action"] == "list"
    cases = doc["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert [c["operations"] for c in cases] == [["getBooks"], ["postBooks"]]
    assert cases[0]["execute"][0]["invoke"]["target-url"].endswith("/list.text")


def test_removing_the_last_operation_of_a_path_removes_the_path_and_its_case():
    doc = apidocs.add_endpoint(apidocs.base_doc("/club", None), endpoint("/books"), "json")
    doc = apidocs.add_endpoint(doc, endpoint("/members"), "json")
    doc = apidocs.remove_endpoint(doc, "/books", "GET")
    assert list(doc["paths"]) == ["/members"]
    cases = doc["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert [c["operations"] for c in cases] == [["getMembers"]]
    with pytest.raises(ApidocError, match="path '/books' does not exist in the API"):
        apidocs.remove_endpoint(doc, "/books", None)
    with pytest.raises(ApidocError, match="with operation 'post' does not exist"):
        apidocs.remove_endpoint(doc, "/members", "POST")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gatewayMethod": "FETCH"}, "'FETCH' is not an API verb; use one of GET, PUT, POST"),
        ({"gatewayPath": "books"}, "apidoc.gatewayPath 'books' must begin with '/'"),
        ({"gatewayPath": None}, "apidoc is missing the gatewayPath field"),
        ({"gatewayBasePath": 7}, "apidoc.gatewayBasePath must be a string"),
        ({"action": "books"}, "apidoc is missing the action field."),
    ],
)
def test_bad_endpoints_are_refused_saying_which_field(change, message):
    doc = {**endpoint("/books"), **change}
    with pytest.raises(ApidocError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apidocs.check_endpoint(doc, "json")


def test_an_unknown_response_type_is_refused_with_the_ones_there_are():
    with pytest.raises(ApidocError, match="'xml' is not a web action extension; use one of json"):
        apidocs.check_endpoint(endpoint("/books"), "xml")


def test_path_parameters_need_http_and_a_declaration():
    base = apidocs.base_doc("/club", None)
    with_json = apidocs.add_endpoint(base, endpoint("/books/{isbn}"), "json")
    with pytest.raises(ApidocError, match="must use a response type of '.http'"):
        apidocs.check_final(with_json)
    undeclared = apidocs.add_endpoint(base, endpoint("/books/{isbn}"), "http")
    with pytest.raises(ApidocError, match="The parameter 'isbn' defined in path '/books/{isbn}'"):
        apidocs.check_final(undeclared)
    declared = apidocs.add_endpoint(
        base,
        {**endpoint("/books/{isbn}"), "pathParameters": [{"name": "isbn", "in": "path"}]},
        "http",
    )
    apidocs.check_final(declared)
    with pytest.raises(ApidocError, match=r"The base path \(/club/\{x\}\) cannot have parameters"):
        apidocs.check_final({**declared, "basePath": "/club/{x}"})


def test_namespace_underscore_is_replaced_by_the_callers():
    doc = endpoint("/books")
    doc["namespace"] = doc["action"]["namespace"] = "_"
    doc["action"]["backendUrl"] = f"{HOST}/api/v1/web/_/default/books.http"
    apidocs.replace_namespace(doc, "alice")
    assert doc["namespace"] == doc["action"]["namespace"] == "alice"
    assert doc["action"]["backendUrl"] == f"{HOST}/api/v1/web/alice/default/books.http"


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        (f"{HOST}/api/v1/web/guest/default/hi.json", ("guest", None, "hi", "json", False)),
        (
            f"{HOST}/api/v1/web/guest/shop/hi.http$(request.path)",
            ("guest", "shop", "hi", "http", True),
        ),
        ("https://openwhisk.ng.bluemix.net/api/some/action/path.http", None),
        (f"{HOST}/api/v1/web/guest/default/hi.xml", None),
        (f"{HOST}/api/v1/namespaces/guest/actions/hi", None),
    ],
)
def test_web_action_urls_are_read_from_backends(url, parsed):
    assert apidocs.parse_web_url(url) == parsed


def test_swagger_documents_sent_whole_must_have_a_routable_shape():
    with pytest.raises(ApidocError, match="swagger is missing the info field."):
        apidocs.check_swagger({"basePath": "/x", "paths": {"/a": {}}})
    with pytest.raises(ApidocError, match="'fetch' is not an operation"):
        apidocs.check_swagger(
            {"basePath": "/x", "info": {"title": "x"}, "paths": {"/a": {"fetch": {}}}}
        )
    with pytest.raises(ApidocError, match="swagger path '/a' must map operations"):
        apidocs.check_swagger({"basePath": "/x", "info": {"title": "x"}, "paths": {"/a": []}})


def table(*docs: tuple[str, dict]) -> list[apiroutes.Resource]:
    out = []
    for base, doc in docs:
        out.extend(apiroutes.resources(GatewayApi("guest", base, "id", doc)))
    return out


def test_routes_match_exactly_then_by_parameter_then_by_prefix():
    doc = apidocs.base_doc("/club", None)
    for path, action in (("/books", "all"), ("/books/{isbn}", "one"), ("/books/new", "fresh")):
        doc = apidocs.add_endpoint(doc, endpoint(path, action=action), "http")
    resources = table(("/club", doc))

    def action_of(path: str) -> str | None:
        found = apiroutes.find(resources, path)
        return None if found is None else found.operations["GET"].backend.rsplit("/", 1)[1]

    assert action_of("club/books") == "all.http$(request.path)"
    assert action_of("club/books/") == "all.http$(request.path)"
    assert action_of("club/books/new") == "fresh.http$(request.path)"
    assert action_of("club/books/978-0596517748") == "one.http$(request.path)"
    assert action_of("club/books/978/reviews") == "one.http$(request.path)"  # a prefix
    assert action_of("club") is None
    assert action_of("elsewhere/books") is None


def test_every_api_of_the_namespace_is_one_table_and_the_root_base_path_works():
    club = apidocs.add_endpoint(apidocs.base_doc("/club", None), endpoint("/books"), "json")
    root = apidocs.add_endpoint(
        apidocs.base_doc("/", None), {**endpoint("/ping"), "gatewayBasePath": "/"}, "json"
    )
    resources = table(("/club", club), ("/", root))
    assert apiroutes.find(resources, "ping").segments == ("ping",)
    assert apiroutes.find(resources, "club/books").segments == ("club", "books")


def test_a_hand_written_document_routes_by_its_operation_switch_or_x_openwhisk_url():
    doc = {
        "swagger": "2.0",
        "basePath": "/v1",
        "info": {"title": "t"},
        "paths": {
            "/a": {"get": {"operationId": "getA"}},
            "/b": {"get": {"x-openwhisk": {"url": f"{HOST}/api/v1/web/guest/default/b.json"}}},
            "/c": {"get": {"operationId": "nothing"}},
        },
        "x-gateway-configuration": {
            "cors": {"enabled": False},
            "assembly": {
                "execute": [
                    {
                        "operation-switch": {
                            "case": [
                                {
                                    "operations": ["getA"],
                                    "execute": [
                                        {"invoke": {"target-url": "x/a.json", "verb": "keep"}}
                                    ],
                                }
                            ]
                        }
                    }
                ]
            },
        },
    }
    resources = table(("/v1", doc))
    assert apiroutes.find(resources, "v1/a").operations["GET"].backend == "x/a.json"
    assert apiroutes.find(resources, "v1/b").operations["GET"].backend.endswith("/b.json")
    assert apiroutes.find(resources, "v1/c").operations["GET"].backend is None
    assert apiroutes.find(resources, "v1/a").cors is False
