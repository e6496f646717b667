"""The backend every handler is given: settings, the store, the authenticator and the invoker.

``service`` builds one inside the server's loop; ``server`` passes it to each route's
handler, so handlers reach storage and the platform only through it (and unit tests
hand them one made of fakes).
"""

from __future__ import annotations

from dataclasses import dataclass

from localwhisk.config import Settings
from localwhisk.platform.auth import Authenticator
from localwhisk.platform.invoker import Invoker
from localwhisk.storage.store import Store


@dataclass
class Backend:
    settings: Settings
    store: Store
    auth: Authenticator
    invoker: Invoker
