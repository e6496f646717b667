"""Mixed load on a real localwhisk (issue #5): no activation lost, none duplicated.

1,000 seeded operations (blocking and non-blocking invokes, web actions, trigger
fires) from 64 concurrent clients, on Python and on Node.js actions. Every acknowledged activation has exactly one
record, finished and successful; every trigger activation's logs name real rule
activations, each named once; no record exists that nobody acknowledged or named.
The 20,000-operation version is ``bench/soak_localwhisk.py``.
"""

from __future__ import annotations

import pytest
from lw_helpers import (
    audit,
    create_load_entities,
    language_params,
    run_load,
    settle_all,
    start_server,
)

pytestmark = pytest.mark.integration

TOTAL = 1000
CLIENTS = 64


@pytest.mark.parametrize("language", language_params())
def test_mixed_load_keeps_exactly_one_record_per_activation(tmp_path, language):
    server = start_server(tmp_path / "data")
    try:
        create_load_entities(server.url, language)
        load = run_load(server.url, TOTAL, CLIENTS, seed=5)
        assert load.transport_errors == 0
        assert load.sent == TOTAL
        unexpected = {k: n for k, n in load.statuses.items() if k[1] not in (200, 202)}
        assert not unexpected, unexpected
        assert len(load.acked) == TOTAL  # every answer named its activation
        fires = sum(1 for kind in load.acked.values() if kind == "fire")
        counted = settle_all(server.url, load.acked)
        result = audit(server.data_dir, load.acked)
        assert result.lost == []
        assert result.unfinished == []
        assert result.bad_trigger_logs == []
        assert result.orphans == []
        assert result.failed_without_message == []
        assert result.records == TOTAL + fires == counted  # one per ack, one per rule firing
    finally:
        server.stop()
