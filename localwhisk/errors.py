"""The API's failures: one class per failure, its HTTP status on the class.

``server`` turns any ``ApiError`` into the platform's body ``{"error": message,
"code": transaction id}`` (``http.error_document``); everything else is a bug and
becomes a logged 500. Messages are the platform's exact texts: OpenWhisk's
``common/scala/src/main/scala/org/apache/openwhisk/http/ErrorResponse.scala``
(``Messages``, and ``ErrorResponse.response`` for a bare status) and the
controller's routes under ``core/controller/src/main/scala/org/apache/openwhisk/core/controller/``.

    ApiError                    500
     ├─ BadRequest              400
     │   ├─ MalformedRequest
     │   ├─ MalformedQuery
     │   ├─ IllegalName
     │   ├─ ReservedParameters
     │   ├─ UnsupportedRuntime
     │   └─ BindingOperation
     ├─ Unauthorized            401
     │   ├─ AuthMissing
     │   └─ AuthInvalid
     ├─ WebAuthFailed           401  (no WWW-Authenticate challenge: not an Unauthorized)
     ├─ Forbidden               403
     │   ├─ OriginRefused
     │   └─ PrivateNetworkRefused
     ├─ NotFound                404
     │   └─ RouteNotFound
     ├─ MethodNotAllowed        405
     ├─ Conflict                409
     │   ├─ AlreadyExists
     │   ├─ WrongCollection
     │   ├─ PackageNotEmpty
     │   └─ BindingConflict
     ├─ PayloadTooLarge         413
     ├─ UnsupportedMediaType    415
     ├─ MisdirectedRequest      421
     ├─ TooManyRequests         429
     │   ├─ RateThrottled
     │   ├─ ConcurrencyThrottled
     │   └─ StreamsLimited      (the dashboard's event streams, localwhisk's own)
     └─ InternalError           500

``tests/unit/test_error_trees.py`` holds this drawing to the classes.
"""

from __future__ import annotations

from whiskfacts.names import ILLEGAL_NAME

# What the platform says for a failure it does not explain: ErrorResponse.response falls
# back to the status's default text (``StatusCodes.InternalServerError`` of its HTTP toolkit). Also the
# result of an activation the server itself broke.
INTERNAL_ERROR = "There was an internal server error."


class ApiError(Exception):
    status = 500
    message = INTERNAL_ERROR
    headers: tuple[tuple[str, str], ...] = ()

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class BadRequest(ApiError):
    status = 400
    message = "The request content was malformed."


class MalformedRequest(BadRequest):
    def __init__(self, detail: str) -> None:
        super().__init__(f"The request content was malformed:\n{detail}")


class MalformedQuery(BadRequest):
    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"The query parameter '{name}' was malformed:\n{detail}")


class IllegalName(BadRequest):
    message = ILLEGAL_NAME


class ReservedParameters(BadRequest):
    message = "Request defines parameters that are not allowed (e.g., reserved properties)."


class UnsupportedRuntime(BadRequest):
    def __init__(self, kind: str, valid: list[str]) -> None:
        listing = ", ".join(f"'{k}'" for k in valid)
        super().__init__(
            f"The specified runtime '{kind}' is not supported by this platform. Valid values are: {listing}."
        )


class BindingOperation(BadRequest):
    message = "Operation not permitted on package binding."


class Unauthorized(ApiError):
    status = 401
    message = "The supplied authentication is invalid"
    headers = (("WWW-Authenticate", 'Basic realm="OpenWhisk secure realm"'),)


class AuthMissing(Unauthorized):
    message = "The resource requires authentication, which was not supplied with the request"


class AuthInvalid(Unauthorized):
    message = "The supplied authentication is invalid"


class WebAuthFailed(ApiError):
    status = 401
    message = "Authentication is possible but has failed or not yet been provided."


class Forbidden(ApiError):
    status = 403
    message = "The supplied authentication is not authorized to access this resource."


class OriginRefused(Forbidden):
    def __init__(self, origin: str) -> None:
        super().__init__(
            f"Requests from the web page at {origin!r} may not use the REST API. "
            f"To allow that page, start localwhisk with --allow-origin {origin}."
        )


class PrivateNetworkRefused(Forbidden):
    message = (
        "Private network access is refused: the REST API is not granted to pages served "
        "from other networks."
    )


class NotFound(ApiError):
    status = 404
    message = "The requested resource does not exist."


class RouteNotFound(NotFound):
    message = "The requested resource could not be found."


class MethodNotAllowed(ApiError):
    status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(f"HTTP method not allowed, supported methods: {', '.join(allowed)}")


class Conflict(ApiError):
    status = 409
    message = "Concurrent modification to resource detected."


class AlreadyExists(Conflict):
    message = "resource already exists"


class WrongCollection(Conflict):
    message = "Resource by this name exists but is not in this collection."


class PackageNotEmpty(Conflict):
    def __init__(self, count: int) -> None:
        noun = "entity" if count == 1 else "entities"
        super().__init__(
            f"Package not empty (contains {count} {noun}). Set force param or delete package contents."
        )


class BindingConflict(Conflict):
    message = "Resource is a package and cannot be converted into a binding."


class PayloadTooLarge(ApiError):
    status = 413

    def __init__(self, size: int, limit: int, what: str = "Request") -> None:
        # Messages.entityTooBig: the request, or one field of an entity (exec, parameters).
        super().__init__(f"{what} larger than allowed: {size} > {limit} bytes.")


class MisdirectedRequest(ApiError):
    status = 421

    def __init__(self, host: str, expected: str) -> None:
        super().__init__(
            f"The Host header {host!r} does not name this server. Use {expected}, or start "
            f"localwhisk with --allow-host NAME to accept another name."
        )


class UnsupportedMediaType(ApiError):
    status = 415

    def __init__(self, content_type: str) -> None:
        shown = f" [{content_type}]" if content_type else ""
        super().__init__(
            f"The request's Content-Type{shown} is not supported. Expected:\napplication/json"
        )


class TooManyRequests(ApiError):
    status = 429


class RateThrottled(TooManyRequests):
    def __init__(self, count: int, allowed: int) -> None:
        super().__init__(
            f"Too many requests in the last minute (count: {count}, allowed: {allowed})."
        )


class ConcurrencyThrottled(TooManyRequests):
    def __init__(self, count: int, allowed: int) -> None:
        super().__init__(
            f"Too many concurrent requests in flight (count: {count}, allowed: {allowed})."
        )


class StreamsLimited(TooManyRequests):
    """Too many open event streams: localwhisk's own bound (OpenWhisk has no dashboard)."""

    headers = (("Retry-After", "5"),)

    def __init__(self, scope: str, count: int, allowed: int) -> None:
        super().__init__(
            f"Too many open event streams {scope} (count: {count}, allowed: {allowed}); "
            "close other dashboard tabs or try again shortly."
        )


class InternalError(ApiError):
    status = 500
