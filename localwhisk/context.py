"""What every handler is given: settings, the store, the authenticator and the invoker."""

from __future__ import annotations

from dataclasses import dataclass

from localwhisk.config import Settings
from localwhisk.platform.auth import Authenticator
from localwhisk.platform.invoker import Invoker
from localwhisk.storage.store import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    auth: Authenticator
    invoker: Invoker
