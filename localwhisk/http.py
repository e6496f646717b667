"""Inert HTTP values: what handlers receive and return.

``server`` builds a ``Request`` from the ASGI scope and body and writes a
``Response`` back; handlers never see ASGI, so they are testable without sockets.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from localwhisk import codec

JSON_TYPE = "application/json"
# Names the activation on every invoke, fire and web-action answer that started one.
ACTIVATION_ID_HEADER = "x-openwhisk-activation-id"

dumps = codec.dumps  # compact JSON, as the platform's spray-json writes it


def parse_query(text: str) -> dict[str, str]:
    """``dict(parse_qsl(text, keep_blank_values=True))``: the last value of a name wins.

    Query strings with nothing to decode (``blocking=true&result=true``) are split
    directly: parse_qsl costs more than the rest of routing on every invoke.
    """
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    query: dict[str, str] = {}
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            query[name] = value
    return query


@dataclass(slots=True)
class Request:
    method: str  # upper case
    path: str  # percent-decoded
    query: dict[str, str] = field(default_factory=dict)  # last value of each name wins
    headers: dict[str, str] = field(default_factory=dict)  # names lower-case
    body: bytes = b""
    request_id: str = "0"
    raw_query: str = ""
    raw_path: str = ""
    # The connection's two ends as (host, port): the caller's and the server's socket.
    peer: tuple[str, int] | None = None
    server: tuple[str, int] | None = None
    connection: object | None = None  # the same object for every request of a connection

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    # A body sent as it is produced (server-sent events) instead of ``body``; the server
    # stops reading it when the client goes away.
    stream: AsyncIterator[bytes] | None = None

    def json(self) -> Any:
        """Decode the body (tests and in-process callers)."""
        return json.loads(self.body) if self.body else None


def json_response(
    status: int, value: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(status, dumps(value), JSON_TYPE, headers or [])


def empty_response(status: int = 204, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, b"", None, headers or [])


def error_document(message: str, transaction_id: str) -> dict[str, str]:
    """The platform's one error shape, ``{"error": message, "code": transaction id}``.

    OpenWhisk's ``ErrorResponse`` writes it
    (``common/scala/src/main/scala/org/apache/openwhisk/http/ErrorResponse.scala``).
    """
    return {"error": message, "code": transaction_id}


def error_response(
    status: int, message: str, transaction_id: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    """An error answer of the REST API, written compactly like every API body."""
    return json_response(status, error_document(message, transaction_id), headers)
