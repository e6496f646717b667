"""What every handler is given: settings, the store, the authenticator and the invoker."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import Authenticator
from .config import Settings
from .invoker import Invoker
from .store import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    auth: Authenticator
    invoker: Invoker
