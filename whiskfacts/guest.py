"""The guest namespace and its well-known key, as OpenWhisk's standalone and
quick-start deployments ship them (``ansible/files/auth.guest`` in apache/openwhisk).

The key is public on purpose: it is what ``wsk``, ``aio`` and the npm client use
against a local OpenWhisk. It is still a key, and masked wherever it is printed.
"""

from __future__ import annotations

GUEST_NAMESPACE = "guest"
GUEST_UUID = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502"
GUEST_KEY = "123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
GUEST_AUTH = f"{GUEST_UUID}:{GUEST_KEY}"
