"""Wiring and lifetime: build store, runner and invoker inside the server loop; stop cleanly.

uvicorn serves the pre-bound socket through ``protocol`` (httptools with header,
timeout and connection bounds). Signals only ask the server to stop (no
re-raise after shutdown), so SIGTERM and SIGINT end with exit status 0 after
running activations are recorded as failed, the runner is closed and the
database is closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import time
from dataclasses import replace
from types import FrameType

import uvicorn

from localwhisk.backend import Backend
from localwhisk.config import Settings
from localwhisk.platform.auth import Authenticator
from localwhisk.platform.invoker import Invoker
from localwhisk.protocol import protocol_class
from localwhisk.server import App
from localwhisk.storage.store import Store

log = logging.getLogger("localwhisk")
PRUNE_EVERY_S = 3600.0


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: App, url: str) -> None:
        super().__init__(config)
        self._app = app
        self._url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            print(f"localwhisk listening on {self._url}", flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Fail running activations first so blocking requests answer now instead of
        # holding the graceful shutdown for up to a minute.
        backend = self._app.backend
        if backend is not None and not backend.invoker.closing:
            await backend.invoker.shutdown()
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Unlike uvicorn's default, do not re-raise the signal after shutdown: exit 0.
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True


def _prune(store: Store, retention_days: float) -> None:
    if retention_days > 0:
        cutoff = int((time.time() - retention_days * 86400) * 1000)
        store.prune_activations(cutoff)


def serve(settings: Settings, sock: socket.socket, url: str) -> None:
    settings = replace(settings, api_host=url)
    tasks: set[asyncio.Task[None]] = set()

    async def startup() -> Backend:
        from localwhisk.runtime.runner import Runner
        from localwhisk.runtime.sandbox import choose

        store = Store(settings.data_dir / "localwhisk.db")
        if store.recovered:
            log.warning(
                "%d activation(s) interrupted by the previous stop were marked failed",
                store.recovered,
            )
        _prune(store, settings.retention_days)
        # Two spares: a create's first invoke and the update right after it both find a
        # started interpreter (a spare takes ~20-40 ms to boot, more than the gap).
        isolation = choose(settings.isolation)  # checked and announced by __main__
        runner = Runner(
            settings.data_dir / "work", prewarm=2, prewarm_nodejs=1, isolation=isolation
        )
        invoker = Invoker(store, runner, settings)
        backend = Backend(settings, store, Authenticator(settings.namespaces), invoker)

        async def prune_forever() -> None:
            while True:
                await asyncio.sleep(PRUNE_EVERY_S)
                _prune(store, settings.retention_days)

        tasks.add(asyncio.get_running_loop().create_task(prune_forever()))
        return backend

    async def shutdown(backend: Backend) -> None:
        for task in tasks:
            task.cancel()
        if not backend.invoker.closing:
            await backend.invoker.shutdown()
        try:
            await backend.invoker.runner.close()
        finally:
            backend.store.close()

    app = App(startup, shutdown)
    config = uvicorn.Config(
        app,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http=protocol_class(settings.http),
        timeout_keep_alive=settings.http.keep_alive_timeout_s,
        # The protocol refuses connections past the cap itself; this is uvicorn's own
        # backstop for requests still running after their clients left.
        limit_concurrency=settings.http.max_connections + 1,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    _Server(config, app, url).run(sockets=[sock])
