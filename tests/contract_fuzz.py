"""The contract fuzzer: schemathesis against a running localwhisk, and what its requests got.

``fuzz(url, auth, workdir, ...)`` runs schemathesis's command line (``st run``, its
stable interface) over the contract localwhisk serves (``localwhisk/apiv1swagger.json``,
OpenAPI 2.0) with the given key and namespace ``_`` (so requests get past the 403 of a
foreign namespace into the handlers), records every exchange as a HAR file (a standard
format, credentials filtered by schemathesis) and returns the requests made, their
statuses and the server errors (5xx). Shared by the short run in ``make test``
(``tests/reliability/test_lw_contract_fuzz.py``) and the long one in ``make soak``
(``bench/soak_fuzz.py``). Test helper only: the caller starts the server (a throwaway one: the fuzz creates and
deletes entities in the namespace it is given).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "localwhisk" / "apiv1swagger.json"
SEED = 10  # issue #10: a fixed seed, so a run can be repeated exactly
INT64 = 2**63
DEPTH_LIMIT = 255  # orjson's nesting limit: deeper records cannot be encoded

# The poisons that once gave 500s (integers beyond 64 bits in skip/since/upto, lone
# surrogates, JSON nested past the encoder's limit) are now refused with 400. Each 5xx
# is still classified by them, so a regression names its cause; the tests require
# both lists empty.
KNOWN_QUERY_INTS = frozenset({"skip", "since", "upto"})
KNOWN = ("integer beyond 64 bits", "lone surrogate", "JSON nested too deep")


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str  # after /api/v1, query included
    status: int
    body: str  # the request body as sent (text)
    answer: str  # the response body, cut short

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}: {self.answer[:160]}"


@dataclass
class FuzzRun:
    exit_code: int
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[Exchange] = field(default_factory=list)  # unexplained 5xx
    known: list[tuple[str, Exchange]] = field(default_factory=list)  # 5xx under KNOWN
    output: str = ""

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        shown = ", ".join(f"{s} {n}" for s, n in sorted(self.statuses.items()))
        known = Counter(reason for reason, _ in self.known)
        line = (
            f"requests {self.requests} ({shown}), server errors {len(self.server_errors)}"
            f", known poison 5xx {len(self.known)}"
        )
        if known:
            line += " (" + ", ".join(f"{r}: {n}" for r, n in sorted(known.items())) + ")"
        return line


def fuzz(
    url: str,
    auth: tuple[str, str],
    workdir: Path,
    *,
    max_examples: int,
    phases: str = "coverage,fuzzing,stateful",
    max_time_s: int | None = None,
    timeout_s: float = 600.0,
) -> FuzzRun:
    """Run schemathesis once against ``url`` (localwhisk's root) and read back every exchange."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "schemathesis.toml"
    # Every operation's {namespace} is the caller's own, so the fuzz reaches the handlers.
    config.write_text('[parameters]\nnamespace = "_"\n', encoding="utf-8")
    har = workdir / "exchanges.har"
    command = [
        *st_command(),
        "--config-file",
        str(config),
        "run",
        str(CONTRACT),
        "--url",
        url.rstrip("/") + "/api/v1",
        "--auth",
        ":".join(auth),
        "--checks",
        "not_a_server_error",
        "--continue-on-failure",  # every case runs, a 500 does not end its operation's run
        "--phases",
        phases,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(SEED),
        "--workers",
        "1",  # in order, so a seeded run is the same run
        "--suppress-health-check",
        "all",  # the contract's loose schemas make the generator filter a lot: expected
        "--request-timeout",
        "90",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--no-color",
    ]
    if max_time_s is None:
        command.append("--generation-deterministic")
    else:
        command += ["--max-time", str(max_time_s)]
    done = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    run = FuzzRun(exit_code=done.returncode, output=done.stdout + done.stderr)
    if not har.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {done.returncode}):\n{run.output}")
    for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
        exchange = to_exchange(entry)
        run.statuses[exchange.status] += 1
        if exchange.status >= 500:
            reason = classify(entry)
            if reason is None:
                run.server_errors.append(exchange)
            else:
                run.known.append((reason, exchange))
    return run


def st_command() -> list[str]:
    """schemathesis's command line from this interpreter's environment."""
    return [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
    ]


def to_exchange(entry: dict[str, Any]) -> Exchange:
    request, response = entry["request"], entry["response"]
    url = request["url"]
    path = url.split("/api/v1", 1)[1] if "/api/v1" in url else url
    return Exchange(
        method=request["method"],
        path=path,
        status=int(response["status"]),
        body=request.get("postData", {}).get("text", ""),
        answer=response.get("content", {}).get("text", "")[:300],
    )


def classify(entry: dict[str, Any]) -> str | None:
    """Which of KNOWN explains this 5xx, or None when nothing does (a real finding)."""
    for item in entry["request"].get("queryString", []):
        if item.get("name") in KNOWN_QUERY_INTS and beyond_int64(item.get("value", "")):
            return KNOWN[0]
    body = entry["request"].get("postData", {}).get("text", "")
    if not body:
        return None
    if has_lone_surrogate(body):
        return KNOWN[1]
    if json_depth(body) >= DEPTH_LIMIT:
        return KNOWN[2]
    return None


def beyond_int64(text: str) -> bool:
    try:
        return abs(int(text.strip())) >= INT64
    except ValueError:
        return False


def has_lone_surrogate(text: str) -> bool:
    """True if the JSON text holds a surrogate escape (or code point) without its pair."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        # Not JSON (or too deep to parse): look at the raw characters.
        return any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    # json.loads joins a valid pair into one character: any surrogate left is lone.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, strings skipped (no parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
