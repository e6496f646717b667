"""Poison batches on a real localwhisk (issue #10): nothing acknowledged is lost.

Two namespaces send ordinary invokes and fires while poisoned results (nested 1,000
deep, a lone surrogate, integers beyond 64 bits; from Python and from Node.js actions) and poisoned request bodies go in
among them. Bodies the store could not hold get 400; every acknowledged activation,
and every rule activation a fire names, is in the database file; poisoned results are
developer errors; the server still answers and stops cleanly.
"""

from __future__ import annotations

import pytest
from lw_helpers import (
    GUEST_AUTH,
    NS,
    OTHER_AUTH,
    OTHER_SPEC,
    language_params,
    run_poison_batches,
    session,
    start_server,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("language", language_params())
def test_poison_batches_lose_nothing(tmp_path, language):
    srv = start_server(tmp_path / "data", "--namespace", OTHER_SPEC)
    try:
        auths = {"guest": GUEST_AUTH, "other": OTHER_AUTH}
        result = run_poison_batches(srv.url, srv.data_dir, auths, rounds=6, language=language)
        assert result.server_errors == []
        assert result.lost == [], f"{len(result.lost)} of {len(result.acked)} lost"
        assert result.wrong == []
        assert result.refused == 6 * 2 * 2  # two unstorable poisons, fire and invoke bodies
        assert len(result.acked) > 6 * 12
        s = session(GUEST_AUTH)
        r = s.post(f"{srv.url}{NS}/actions/p-echo?blocking=true&result=true", json={"k": 1})
        assert (r.status_code, r.json()) == (200, {"n": None})
        s.close()
    finally:
        code = srv.stop()
    assert code == 0, "".join(srv.output[-20:])
