"""The fuzz helper's reading of a HAR file: every 5xx counts unless a KNOWN rule names it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

TESTS = Path(__file__).resolve().parents[1]


def load_helper() -> ModuleType:
    # tests/ is not a package; load the helper by path, once, under a stable name.
    if "contract_fuzz" not in sys.modules:
        spec = importlib.util.spec_from_file_location("contract_fuzz", TESTS / "contract_fuzz.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["contract_fuzz"] = module
        spec.loader.exec_module(module)
    return sys.modules["contract_fuzz"]


cf = load_helper()


def entry(status: int, query: dict[str, str] | None = None, body: str = "") -> dict:
    request = {
        "method": "POST" if body else "GET",
        "url": "http://127.0.0.1:1/api/v1/namespaces/_/activations",
        "queryString": [{"name": k, "value": v} for k, v in (query or {}).items()],
    }
    if body:
        request["postData"] = {"mimeType": "application/json", "text": body}
    return {"request": request, "response": {"status": status, "content": {"text": "{}"}}}


@pytest.mark.parametrize(
    ("query", "body", "reason"),
    [
        ({"skip": str(2**64)}, "", "integer beyond 64 bits"),
        ({"upto": str(-(2**63))}, "", "integer beyond 64 bits"),
        ({}, '{"s": "\\ud800"}', "lone surrogate"),
        ({}, '{"s": "\\udc00x"}', "lone surrogate"),
        ({}, '{"d": ' + "[" * 300 + "]" * 300 + "}", "JSON nested too deep"),
    ],
)
def test_known_poisons_are_named(query, body, reason):
    assert cf.classify(entry(500, query, body)) == reason


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({"skip": str(2**63 - 1)}, ""),  # fits in 64 bits: a 500 here is a real finding
        ({"limit": str(2**64)}, ""),  # only skip/since/upto are known
        ({}, '{"s": "\\ud83d\\ude00"}'),  # a valid pair is not a lone surrogate
        ({}, '{"d": ' + "[" * 253 + "]" * 253 + "}"),  # depth 254: under the limit
        ({}, '{"s": "[[[[[[[[[[[["}'),  # brackets inside a string do not nest
    ],
)
def test_anything_else_is_a_server_error(query, body):
    assert cf.classify(entry(500, query, body)) is None


def test_a_run_counts_every_exchange(tmp_path, monkeypatch):
    har = {
        "log": {
            "entries": [
                entry(200),
                entry(400),
                entry(500, {"skip": "5"}),
                entry(500, {"since": str(10**30)}),
            ]
        }
    }

    def fake_run(command, cwd, **_):
        Path(command[command.index("--report-har-path") + 1]).write_text(json.dumps(har))
        assert "--generation-deterministic" in command and str(cf.SEED) in command
        return type("Done", (), {"returncode": 1, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(cf.subprocess, "run", fake_run)
    run = cf.fuzz("http://127.0.0.1:1", ("u", "k"), tmp_path, max_examples=1)
    assert run.requests == 4 and run.statuses[500] == 2
    assert [e.path for e in run.server_errors] == ["/namespaces/_/activations"]
    assert [reason for reason, _ in run.known] == ["integer beyond 64 bits"]
    assert "server errors 1" in run.summary()
