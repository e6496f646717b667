"""JSON to and from bytes on the hot paths: orjson, with the standard library behind it.

orjson is several times faster than ``json``, but where the two differ the standard
library's reading wins: integers beyond 64 bits (orjson would read a float), NaN and
Infinity literals, a byte order mark. Such documents, and values orjson refuses to
write (integers beyond 64 bits), go through ``json`` as before.
Two visible differences remain: NaN and Infinity are written as ``null`` (JSON has no
such numbers), and tiny floats are written without an exponent (``0.00001``).

What comes from outside (``loads``: request bodies, action results) must also be
storable, or one record could stop the store for everyone: documents nested deeper
than ``MAX_DEPTH``, holding a lone UTF-16 surrogate (``"\\ud800"``, not a character:
SQLite and UTF-8 cannot hold it) or an integer longer than ``MAX_INT_DIGITS`` are
refused with ``Unreadable``, whose message is plain enough to show a caller.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Well under orjson's 255 levels (writing) and Python's recursion limit (the fallback),
# with room for the few levels a stored record wraps around a result.
MAX_DEPTH = 128
# CPython's default limit for converting integers to and from text: a longer one
# could be read but never written back.
MAX_INT_DIGITS = 4300

# 19 digits in a row may be an integer beyond 64 bits: cheaper to spot than to check.
# Spotted by mapping every digit to "0" and all else to a space, then finding 19 zeros:
# two passes in C, a tenth of what a regular expression's search costs (30 us a KB).
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_RUN = b"0" * 19
_SURROGATE = re.compile("[\ud800-\udfff]")
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

TOO_DEEP = (
    f"the JSON is nested more than {MAX_DEPTH} levels deep (arrays and objects inside"
    " each other); send a flatter document"
)
LONE_SURROGATE = (
    "a string holds a lone UTF-16 surrogate (such as \\ud800), which is not a character;"
    " send characters beyond U+FFFF as a surrogate pair or as UTF-8"
)


class Unreadable(ValueError):
    """A JSON document this server will not take; the message says why, in plain words."""


class Unstorable(ValueError):
    """A value that cannot be written as UTF-8 JSON text; the message says why."""


def loads(data: bytes | str) -> Any:
    """Parse a JSON document from outside; ``ValueError`` (``json``'s or ``Unreadable``) if
    it is not one, or not one this server can store."""
    if not _long_digits(data):
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json says why, or reads what orjson will not (NaN, a BOM, surrogates)
        else:
            # orjson admits neither lone surrogates nor long integers; fewer brackets
            # than the limit cannot nest past it, so most documents skip the walk.
            if _brackets(data) > MAX_DEPTH:
                _check(value, strings=False)
            return value
    try:
        value = json.loads(data, parse_int=_parse_int)
    except RecursionError:
        raise Unreadable(TOO_DEEP) from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise Unreadable(
            f"the document is not UTF-8 text (byte 0x{byte:02x} at offset {exc.start});"
            " send JSON encoded as UTF-8"
        ) from None
    _check(value, strings=True)
    return value


def loads_stored(data: bytes | str) -> Any:
    """Parse a document this server wrote itself (no limits: it passed them on the way in)."""
    if _long_digits(data):
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the platform's spray-json writes it."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return _encoder.encode(value).encode("utf-8")


def dumps_text(value: Any) -> str:
    """``dumps`` as text, for the database's text columns."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return _encoder.encode(value)


def storable_text(value: Any) -> str:
    """``dumps_text`` that is valid UTF-8 JSON or raises ``Unstorable`` (never anything else)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        pass  # integers beyond 64 bits, or something json cannot write either
    try:
        text = _encoder.encode(value)
        text.encode("utf-8")  # a lone surrogate passes json but not SQLite
    except RecursionError:
        raise Unstorable(TOO_DEEP) from None
    except UnicodeEncodeError:
        raise Unstorable(LONE_SURROGATE) from None
    except (TypeError, ValueError) as exc:  # a non-JSON value, a cycle, a huge integer
        raise Unstorable(f"the value cannot be written as JSON ({type(exc).__name__})") from None
    return text


def _long_digits(data: bytes | str) -> bool:
    """Whether ``data`` holds 19 ASCII digits in a row (a number too long for orjson,
    or digits in a string: either way ``json`` reads it)."""
    if isinstance(data, str):
        # Only ASCII digits spell a JSON number; lone surrogates pass to the parser.
        data = data.encode("utf-8", "surrogatepass")
    return _LONG_RUN in data.translate(_DIGITS_AS_ZEROS)


def _brackets(data: bytes | str) -> int:
    if isinstance(data, bytes):
        return data.count(b"[") + data.count(b"{")
    return data.count("[") + data.count("{")


def _parse_int(text: str) -> int:
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise Unreadable(
            f"a number has {digits} digits; integers of more than {MAX_INT_DIGITS} digits"
            " are not accepted, send it as a string"
        )
    return int(text)


def _check(value: Any, *, strings: bool) -> None:
    """Raise ``Unreadable`` if ``value`` nests past MAX_DEPTH or (``strings``) holds a lone
    surrogate. Iterative: the point is to survive documents too deep to recurse into."""
    if not isinstance(value, (dict, list)):
        if strings and isinstance(value, str) and _SURROGATE.search(value):
            raise Unreadable(LONE_SURROGATE)
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Unreadable(TOO_DEEP)
        if isinstance(container, dict):
            if strings and any(_SURROGATE.search(key) for key in container):
                raise Unreadable(LONE_SURROGATE)
            items = container.values()
        else:
            items = container
        for item in items:
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))
            elif strings and isinstance(item, str) and _SURROGATE.search(item):
                raise Unreadable(LONE_SURROGATE)
