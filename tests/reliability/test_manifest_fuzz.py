"""Property-based fuzzing of manifests: never a traceback; a bad one exits 2 naming its YAML path.

Two generators (hypothesis, seeded by its database-free profile below, bounded
examples, no deadline): YAML-ish text built from the tokens that break parsers
(flow brackets, anchors, tags, tabs, Jinja braces, duplicate keys), and a valid
manifest with one structural mutation (a value replaced by any YAML value, a key
deleted, an unknown key added). Each goes through ``python -m deploy validate``'s
``main`` in this process. The properties: the exit code is 0 or 2, never 1 (a
bug); nothing is a traceback; on 2, every problem reads
``<file>:<line>: <yaml path>: expected ...``, and for a mutation some problem
names the mutated path, one of its parents or one of its children (or a
reference to it).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.cli import main

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# the path may hold any character a key holds (``project. `` for a key " ")
PROBLEM = re.compile(r"^  - (?P<file>.+?):(?P<line>\d+): (?P<path>.+?): expected .+")
BASE: dict[str, Any] = {
    "project": {
        "name": "fuzz",
        "packages": {
            "shop": {
                "inputs": {"region": "eu"},
                "actions": {
                    "cart": {
                        "function": "hello.py",
                        "runtime": "python:3.11",
                        "web": True,
                        "limits": {"timeout": 3000, "memorySize": 256},
                        "inputs": {"level": {"type": "integer", "value": 3}},
                        "annotations": {"final": True},
                    },
                    "pay": {"function": "actions/hello", "runtime": "python:3.11"},
                },
                "sequences": {"checkout": {"actions": "cart, pay"}},
                "triggers": {"placed": {"inputs": {"n": 1}}},
                "rules": {"on-placed": {"trigger": "placed", "action": "checkout"}},
            }
        },
    }
}
KEYS = [
    "project", "packages", "actions", "function", "runtime", "web", "limits", "timeout",
    "inputs", "annotations", "sequences", "triggers", "rules", "trigger", "action", "code",
    "main", "include", "exclude", "feed", "name", "value", "type", "x", "", "default",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([".", "..", "/", "hello.py", "actions", "{{ env.NOPE }}", "${NOPE}", "$$"]),
    st.sampled_from(["python:3.11", "nodejs:20", "sequence", "blackbox", "yes", "raw"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=3),
    ),
    max_leaves=8,
)
TOKENS = [
    "project:", "packages:", "actions:", "a:", "function: hello.py", "runtime: python:3.11",
    "  ", "    ", "\t", "\n", "- ", "[", "]", "{", "}", ",", ": ", "&x ", "*x", "!!str ",
    "!!python/object:os.system ", "{{", "}}", "{{ env.HOME }}", "{% if %}", "${X}", "'", '"',
    "#", "|", ">", "---", "...", "?", "%", "@", "\u00e9", "\ufeff", "\x85", "0x", "1e9",
]  # fmt: skip


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            out += _paths(value, (*prefix, key))
    return out


PATHS = _paths(BASE)


@pytest.fixture
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "actions" / "hello").mkdir(parents=True)
    (root / "actions" / "hello" / "__main__.py").write_text("def main(a):\n    return a\n")
    (root / "hello.py").write_text("def main(a):\n    return a\n")
    return root


def validate(capsys: Any, manifest: Path) -> tuple[int, list[str], str]:
    code = main(["validate", "-m", str(manifest)], environ={}, home=manifest.parent)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    assert code in (0, 2), f"exit {code} (a bug):\n{err}"
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    if code == 2:
        assert err.startswith("error: "), err
        if not problems:  # one problem found after the manifest (e.g. bundling): one line
            problems = ["  - " + err.splitlines()[0].removeprefix("error: ")]
        for line in problems:
            match = PROBLEM.match(line)
            assert match, f"a problem without file, line, YAML path and 'expected':\n{line}"
            assert match["file"] == str(manifest)
    return code, problems, err


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.text(max_size=20))
def test_yaml_text_never_breaks_the_tool(capsys, folder, tokens, noise):
    manifest = folder / "manifest.yaml"
    manifest.write_text("".join(tokens) + noise, encoding="utf-8", errors="surrogatepass")
    validate(capsys, manifest)


@FUZZ
@given(
    st.sampled_from(PATHS),
    st.one_of(VALUES, st.just("<delete>"), st.just("<unknown key>")),
)
def test_one_structural_mutation_is_reported_at_its_yaml_path(capsys, folder, where, value):
    tree = copy.deepcopy(BASE)
    parent = tree
    for key in where[:-1]:
        parent = parent[key]
    if value == "<delete>":
        del parent[where[-1]]
    elif value == "<unknown key>" and isinstance(parent[where[-1]], dict):
        parent[where[-1]]["zzunknown"] = 1
    else:
        parent[where[-1]] = value
    manifest = folder / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    code, problems, err = validate(capsys, manifest)
    if code == 0:
        return
    mutated = ".".join(str(k) for k in where)
    named = [PROBLEM.match(line)["path"] for line in problems]
    related = [
        p
        for p in named
        if p.startswith(mutated)
        or mutated.startswith(p)
        or p in ("(top)", "(yaml)")
        # templating comes before YAML: its problems name the expression, or (template)
        or p.startswith("env.")
        or p == "(template)"
    ]
    # a deleted or renamed entity is reported where it is referenced (rules, sequences)
    references = [
        line for line in problems if str(where[-1]) in line or "not in this manifest" in line
    ]
    assert related or references, f"{mutated} <- {value!r}: no problem names it:\n{err}"


def test_the_corpus_of_bad_manifests_is_at_least_forty():
    corpus = Path(__file__).parents[1] / "unit" / "deploy" / "bad_manifests"
    assert len(list(corpus.glob("*.yaml"))) >= 40


# What the fuzzing found, pinned: each was exit 2 without a YAML path, or a message split in two.
@pytest.mark.parametrize(
    "action, expected",
    [
        (
            "{function: null, runtime: python:3.11}",
            ":6: project.packages.default.actions.a.function: expected a file or folder,"
            " found nothing",
        ),
        (
            "{code: null, runtime: python:3.11}",
            ":6: project.packages.default.actions.a.code: expected inline source, found nothing",
        ),
        (
            '{function: hello.py, "x\\ry": 1}',
            ":6: project.packages.default.actions.a.x\\ry: expected a known action key,"
            " found unknown key 'x\\ry'",
        ),
        (
            "{function: ., runtime: python:3.11}",
            ":6: project.packages.default.actions.a: action a: expected __main__.py at the root",
        ),
    ],
)
def test_fuzz_findings_are_one_line_problems_at_their_yaml_path(capsys, folder, action, expected):
    manifest = folder / "manifest.yaml"
    manifest.write_text(
        f"project:\n  name: p\n  packages:\n    default:\n      actions:\n        a: {action}\n"
    )
    code, problems, err = validate(capsys, manifest)
    assert code == 2
    assert len(problems) == 1 and f"{manifest}{expected}" in problems[0], err
    assert len(err.splitlines()) == len(problems) + (1 if err.startswith("error: the") else 0)
