"""Media types for web actions: parsing Content-Type values and deciding which bodies are binary."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf'\s*;\s*({_TOKEN})\s*=\s*({_TOKEN}|"(?:[^"\\]|\\.)*")', re.ASCII)
_MEDIA = re.compile(rf"\s*({_TOKEN})/({_TOKEN})", re.ASCII)
# Types the platform's HTTP stack (Akka/Pekko MediaTypes) treats as text besides text/*
# and the JSON family; anything else without a charset is binary (base64 on the wire).
_TEXT_APPLICATION = frozenset(
    {"xml", "javascript", "x-javascript", "ecmascript", "x-www-form-urlencoded", "xhtml+xml"}
)


@dataclass(frozen=True)
class MediaType:
    type: str  # lower case
    subtype: str  # lower case
    params: tuple[tuple[str, str], ...]  # names lower case; charset excluded

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"

    @property
    def is_json(self) -> bool:
        return self.essence == "application/json" or self.subtype.endswith("+json")


# Content-Type value -> its parse: every JSON answer parses "application/json" again.
# Only short values are kept (an action chooses them), and only so many.
_PARSED: dict[str, tuple[MediaType, bool] | None] = {}
_PARSED_LIMIT = 256
_PARSED_LENGTH = 128


def parse_media_type(value: str) -> tuple[MediaType, bool] | None:
    """``"text/html; charset=utf-8"`` -> (media type, whether a charset was given); None if malformed."""
    if value in _PARSED:
        return _PARSED[value]
    parsed = _parse(value)
    if len(value) <= _PARSED_LENGTH:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[value] = parsed  # MediaType is frozen: one value serves every caller
    return parsed


def _parse(value: str) -> tuple[MediaType, bool] | None:
    match = _MEDIA.match(value)
    if not match:
        return None
    params: list[tuple[str, str]] = []
    has_charset = False
    pos = match.end()
    while pos < len(value.rstrip()):
        param = _PARAM.match(value, pos)
        if not param:
            return None
        name = param.group(1).lower()
        if name == "charset":
            has_charset = True
        else:
            params.append((name, param.group(2)))
        pos = param.end()
    return MediaType(match.group(1).lower(), match.group(2).lower(), tuple(params)), has_charset


def is_binary(media: MediaType, has_charset: bool = False) -> bool:
    """Whether bodies of this type travel as base64 strings inside JSON."""
    if media.type == "text" or media.is_json:
        return False
    if media.type == "application" and media.subtype in _TEXT_APPLICATION:
        return False
    if media.subtype.endswith("+xml") and media.essence != "image/svg+xml":
        return False
    # An unregistered type that names a charset is text to the platform's HTTP stack.
    return not (has_charset and media.type not in {"image", "audio", "video", "font"})


def render_type(media: MediaType, charset: bool) -> str:
    text = media.essence + "".join(f"; {k}={v}" for k, v in media.params)
    return f"{text}; charset=UTF-8" if charset else text
