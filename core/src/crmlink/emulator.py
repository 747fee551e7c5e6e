"""Running a CRM emulator: an ASGI app served by uvicorn on 127.0.0.1 in a background thread.

Connector packages ship emulators of their CRM's REST API (``crmlink emulate NAME``). They share
this runner so that tests, benchmarks and the CLI start them the same way.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, Self

import uvicorn

__all__ = ["Emulator", "EmulatorFactory", "ServedEmulator", "ThreadedServer"]


class ThreadedServer:
    """Serve an ASGI app with uvicorn; ``start()`` returns once the socket listens."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Self:
        self._thread = threading.Thread(
            target=self._server.run, name="crmlink-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.host}:{self.port} did not start")
            time.sleep(0.01)
        sockets = self._server.servers[0].sockets
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (the CLI's ``emulate`` command)."""
        self._server.run()


class ServedEmulator:
    """Base of the shipped emulators: an app served by the ``ThreadedServer`` in ``_server``.

    Subclasses build ``self._server`` in ``__init__`` and may extend ``describe()``.
    """

    name: ClassVar[str] = "CRM"
    _server: ThreadedServer

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (the port is known once started)."""
        return self._server.url

    def describe(self) -> str:
        """The line ``serve_forever`` prints once listening: where, and how to get in."""
        return f"{self.name} emulator: {self.url}"

    def start(self) -> Self:
        """Serve in a background thread; returns once the socket listens."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (``crmlink emulate NAME``)."""
        self.start()
        print(self.describe(), file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Emulator(Protocol):
    """What ``crmlink emulate`` and test fixtures need from an emulator."""

    @property
    def url(self) -> str: ...

    def start(self) -> Self: ...

    def stop(self) -> None: ...

    def serve_forever(self) -> None: ...


EmulatorFactory = Callable[..., Emulator]
"""Called as ``factory(host=..., port=..., token=...)``; returns an unstarted emulator."""
