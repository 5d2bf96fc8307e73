"""What every stand-in shares: an HTTP server on 127.0.0.1 (a free port) in a daemon thread,
started and stopped as a context manager."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that stopped waiting (the timeout tests) is expected, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    """Subclasses set ``handler`` (a request handler class reading ``self.standin``) and
    ``thread_name``, and create ``_stopping`` (an Event that ends a hang early)."""

    handler: type[BaseHTTPRequestHandler]
    thread_name = "standin"
    _stopping: threading.Event
    _server: QuietServer | None = None
    _thread: threading.Thread | None = None

    def __enter__(self):
        self._stopping.clear()
        handler = type(f"{type(self).__name__}Handler", (self.handler,), {"standin": self})
        self._server = QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()  # ends a hang early
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``."""
        assert self._server is not None, "use the stand-in inside a with block"
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"
