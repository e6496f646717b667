"""An action's kind as wskdeploy picks it from what the server lists in ``GET /``.

wskdeploy (parsers/manifest_parser.go readActionFunction and readActionCode, runtimes/
runtimes.go) reads the server's runtimes and, outside its ``--strict`` mode:

- a source file's kind is the default kind of the family its extension belongs to
  (``.js`` nodejs, ``.py`` python, ``.jar``/``.java`` java, ``.swift``, ``.php``, ``.rb``
  ruby, ``.go``, ``.rs`` rust, ``.cs`` dotnet) when no ``runtime`` is written, when the
  written one is not offered (``python``, ``nodejs@10``) or when it belongs to another
  family (each time with a warning);
- a zip (a ``.zip`` file or a folder) needs a written runtime the server offers;
- inline ``code`` takes a written runtime the server offers, or a family name
  (``nodejs``) meaning that family's default.

"Offered" is every non-deprecated kind plus ``<family>:default`` for a family with a
default. Pure: ``resolve_kinds(manifest, info)`` returns the manifest with each action's
kind decided, and the warnings; it raises ``PreflightError`` for the actions no kind fits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from deploy.errors import PreflightError
from deploy.models import ActionSpec, Manifest

# wskdeploy's FileExtensionRuntimes: a family name containing the key owns the extensions.
FAMILY_EXTENSIONS = (
    ("nodejs", ("js",)),
    ("python", ("py",)),
    ("swift", ("swift",)),
    ("php", ("php",)),
    ("java", ("java", "jar")),
    ("ruby", ("rb",)),
    ("rust", ("rs",)),
    ("go", ("go",)),
    ("dotnet", ("cs", "zip")),
)


@dataclass(frozen=True)
class Offer:
    """What one server runs, as wskdeploy reads its ``GET /``."""

    kinds: frozenset[str]  # offered kinds, <family>:default included
    defaults: dict[str, str]  # family -> its default kind
    families: dict[str, frozenset[str]]  # family -> its offered kinds
    by_extension: dict[str, str]  # "js" -> family

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> Offer:
        runtimes = info.get("runtimes") or {}
        defaults: dict[str, str] = {}
        families: dict[str, frozenset[str]] = {}
        for family, entries in runtimes.items():
            kinds: set[str] = set()
            for entry in entries if isinstance(entries, list) else []:
                kind = entry.get("kind") if isinstance(entry, dict) else None
                if not isinstance(kind, str):
                    continue
                if not entry.get("deprecated"):
                    kinds.add(kind)
                    if entry.get("default"):
                        defaults[family] = kind
                if entry.get("default"):
                    kinds.add(f"{kind.partition(':')[0]}:default")
            families[family] = frozenset(kinds)
        by_extension: dict[str, str] = {}
        for family in runtimes:
            for stem, extensions in FAMILY_EXTENSIONS:
                if stem in family:
                    by_extension.update(dict.fromkeys(extensions, family))
                    break
        return cls(
            frozenset().union(*families.values()) if families else frozenset(),
            defaults,
            families,
            by_extension,
        )

    def listed(self) -> str:
        return ", ".join(sorted(self.kinds)) or "none"


def resolve_kinds(
    manifest: Manifest, info: dict[str, Any], apihost: str = "the server"
) -> tuple[Manifest, list[str]]:
    """The manifest with every action's kind as wskdeploy would send it, and the warnings."""
    offer = Offer.from_info(info)
    if not offer.kinds:
        return manifest, []  # preflight says the runtimes were not checked
    warnings: list[str] = []
    problems: list[str] = []
    actions = []
    for action in manifest.actions:
        kind = _kind(action, offer, apihost, warnings, problems)
        actions.append(dataclasses.replace(action, runtime=kind) if kind else action)
    if problems:
        raise PreflightError(problems)
    return dataclasses.replace(manifest, actions=tuple(actions)), warnings


def _kind(
    action: ActionSpec, offer: Offer, apihost: str, warnings: list[str], problems: list[str]
) -> str | None:
    label = f"action {action.path}"
    written = None if action.inferred_runtime else action.runtime
    if action.function is None and written and _family_absent(written, offer):
        return written  # for preflight, as below
    if action.function is None:  # inline code
        if written in offer.kinds:
            return written
        if written in offer.defaults:
            warnings.append(
                f"{label}: runtime {written!r} is a family; using its default kind"
                f" {offer.defaults[written]} (as wskdeploy does)"
            )
            return offer.defaults[written]
        problems.append(
            f"{label}: runtime {written!r} is not offered by {apihost} (it offers:"
            f" {offer.listed()}); change `runtime` in the manifest"
        )
        return None
    zipped = action.function.is_dir() or action.function.suffix.lower() == ".zip"
    extension = "zip" if zipped else action.function.suffix.lower().lstrip(".")
    family = offer.by_extension.get(extension)
    from_extension = offer.defaults.get(family or "")
    if written and from_extension is None and _family_absent(written, offer):
        # A family the target lacks altogether, with no default to fall back on (the
        # Python bundle against Adobe's Node.js only): kept as written, for preflight to
        # name the manifest to deploy instead.
        return written
    if zipped:
        if written in offer.kinds:
            return written
        what = "a folder" if action.function.is_dir() else "a .zip file"
        problems.append(
            f"{label}: runtime {written!r} is not offered by {apihost} (it offers:"
            f" {offer.listed()}); {what} is sent as a zip, whose kind must be one of them"
        )
        return None
    if written is None:
        if from_extension is None:
            problems.append(_no_family(label, extension, apihost, offer))
        return from_extension
    if written in offer.kinds:
        if family is None or written in offer.families.get(family, frozenset()):
            return written
        if from_extension is None:
            return written
        warnings.append(
            f"{label}: runtime {written!r} does not run .{extension} files; using"
            f" {from_extension}, the default for .{extension} (as wskdeploy does)"
        )
        return from_extension
    if from_extension is None:
        problems.append(
            f"{label}: runtime {written!r} is not offered by {apihost} (it offers:"
            f" {offer.listed()}); change `runtime` in the manifest"
        )
        return None
    warnings.append(
        f"{label}: runtime {written!r} is not offered by {apihost}; using {from_extension},"
        f" its default for .{extension} files (as wskdeploy does)"
    )
    return from_extension


def _family_absent(written: str, offer: Offer) -> bool:
    family = written.partition(":")[0].partition("@")[0]
    return family not in offer.families and family not in offer.defaults


_LANGUAGE = {"js": "Node.js", "py": "Python", "jar": "Java", "java": "Java", "rb": "Ruby"}


def _no_family(label: str, extension: str, apihost: str, offer: Offer) -> str:
    stem = next((s for s, exts in FAMILY_EXTENSIONS if extension in exts), None)
    if stem is None:
        return (
            f"{label}: no runtime is written and a .{extension or '(no extension)'} file"
            f" names none; add `runtime` (one of: {offer.listed()})"
        )
    language = _LANGUAGE.get(extension, stem.capitalize())
    return (
        f"{label}: a .{extension} file is {language} code, but {apihost} offers no {stem}"
        f" runtime (it offers: {offer.listed()}); deploy it where {stem} runs"
    )
