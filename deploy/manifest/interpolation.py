"""Variables in a manifest: Jinja2 over the whole file, then wskdeploy's ``$VAR`` in values.

Owns both substitution passes and nothing else. An unset variable is always a
problem (wskdeploy silently substitutes ""; that is its most reported pain),
and every unset variable is reported, not only the first one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

# Jinja2 only acts on these delimiters (line statements are off): without any of them,
# rendering is the identity, and skipping it saves the jinja2 import (~30 ms) per run.
_JINJA_MARKERS = ("{{", "{%", "{#")

# Markers rather than values: a lookup may legitimately return None.
MISSING = object()

# `$${NAME}` escapes, `${NAME}` and `$NAME` substitute (wskenv/environment.go).
_VAR = re.compile(r"\$\$\{(?P<escaped>\w+)\}|\$\{(?P<braced>\w+)\}|\$(?P<bare>[A-Za-z_]\w*)")
_WHOLE = re.compile(r"\A\$(?:\{(\w+)\}|([A-Za-z_]\w*))\Z")


def render_template(text: str, environ: Mapping[str, str], file: str) -> tuple[str, list[str]]:
    """Render ``text`` with ``env`` = ``environ``; return the text and every problem found."""
    if not any(marker in text for marker in _JINJA_MARKERS):
        return text, []
    import jinja2

    problems: list[str] = []
    undefined = _recording_undefined(problems, file)
    environment = jinja2.Environment(
        undefined=undefined,
        keep_trailing_newline=True,  # keeps line numbers of the YAML equal to the source's
        autoescape=False,
    )
    try:
        template = environment.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        return text, [
            f"{file}:{exc.lineno}: (template): expected valid Jinja2 syntax, found {exc.message}"
        ]
    undefined.template = template  # so each use can be mapped back to its template line
    rendered = template.render(env=dict(environ))
    return rendered, list(dict.fromkeys(problems))  # one line per (variable, line)


def _template_line(template: jinja2.Template | None) -> int | None:
    """The template line being rendered: the nearest compiled-template frame, mapped back."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == "<template>" and template is not None:
            return template.get_corresponding_lineno(frame.f_lineno)
        frame = frame.f_back
    return None


def _recording_undefined(problems: list[str], file: str) -> type[jinja2.StrictUndefined]:
    """A StrictUndefined that records each use instead of stopping at the first one.

    ``default`` and ``is defined`` never touch the value, so they still work;
    any other use (printing, testing, calling) is recorded as a problem and the
    render goes on so the remaining unset variables are found too.
    """
    import jinja2

    class Recording(jinja2.StrictUndefined):
        template: jinja2.Template | None = None

        def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
            line = _template_line(Recording.template)
            name = self._undefined_name
            if self._undefined_obj is jinja2.utils.missing:
                problems.append(
                    f"{file}:{line}: {name}: expected a template variable, found undefined '{name}'"
                    f" (hint: only env is defined, as in {{{{ env.NAME }}}})"
                )
            else:
                problems.append(
                    f"{file}:{line}: env.{name}: expected environment variable {name} to be set, found it unset"
                    f" (hint: export {name}=..., or write {{{{ env.{name} | default('...') }}}})"
                )
            return self

        def __getattr__(self, name: str) -> Any:
            if name[:2] == "__":
                raise AttributeError(name)
            return self._fail_with_undefined_error()

        def __str__(self) -> str:
            self._fail_with_undefined_error()
            return ""

        def __bool__(self) -> bool:
            self._fail_with_undefined_error()
            return False

        def __iter__(self) -> Any:
            self._fail_with_undefined_error()
            return iter(())

        def __len__(self) -> int:
            self._fail_with_undefined_error()
            return 0

        def __hash__(self) -> int:
            return id(self)

    # Every other operator is bound to the base class's raising method: rebind them.
    for klass in (jinja2.StrictUndefined, jinja2.Undefined):
        for key, value in vars(klass).items():
            if value is jinja2.Undefined._fail_with_undefined_error and key not in vars(Recording):
                setattr(Recording, key, Recording._fail_with_undefined_error)
    return Recording


def needs_interpolation(text: str) -> bool:
    """wskdeploy only interpolates values that start with ``$`` or contain ``${``."""
    return (text.startswith("$") and len(text) > 1) or "${" in text


def interpolate(value: Any, lookup: Callable[[str], Any], on_missing: Callable[[str], None]) -> Any:
    """Substitute ``$VAR``/``${VAR}`` in every string inside ``value`` (maps and lists too).

    ``lookup`` returns MISSING for an unset name; ``on_missing`` is told each
    one. A string that is exactly one reference keeps the referenced value's
    type (a project input may be an integer); otherwise the result is a string.
    """
    if isinstance(value, str):
        return _interpolate_text(value, lookup, on_missing)
    if isinstance(value, dict):
        return {key: interpolate(item, lookup, on_missing) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, lookup, on_missing) for item in value]
    return value


def _interpolate_text(
    text: str, lookup: Callable[[str], Any], on_missing: Callable[[str], None]
) -> Any:
    if not needs_interpolation(text):
        return text
    whole = _WHOLE.match(text)
    if whole:
        name = whole.group(1) or whole.group(2)
        found = lookup(name)
        if found is MISSING:
            on_missing(name)
            return text
        return found

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "${" + match.group("escaped") + "}"
        name = match.group("braced") or match.group("bare")
        found = lookup(name)
        if found is MISSING:
            on_missing(name)
            return match.group(0)
        return found if isinstance(found, str) else _as_text(found)

    return _VAR.sub(substitute, text)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, sort_keys=True)
    return str(value)
