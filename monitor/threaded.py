"""Serving ASGI apps with uvicorn: on a socket bound first, in a thread or in the foreground.

The socket is bound before anything says "serving": a port in use is one line naming the
address (exit 3), not a traceback after a misleading log line.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from monitor.errors import EXIT_ENVIRONMENT, Problem


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on such sockets; without it a small
    # response body waits for the delayed ACK of its headers (40 ms on Linux).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise Problem(
            f"cannot listen on {host}:{port}: {error.strerror or error} "
            "(another clusterwatch running? set http_port / --port)",
            EXIT_ENVIRONMENT,
        ) from None
    return sock


# Request line plus headers beyond this are refused by h11 (400) before the app sees them.
MAX_HEAD_BYTES = 16 * 1024
# Connections handled at once; beyond it uvicorn answers 503 at once instead of queueing
# without bound.
MAX_CONNECTIONS = 256


def server_config(app: ASGIApp, **options: object) -> uvicorn.Config:
    """The one uvicorn configuration of every server the project runs: the pure-Python h11
    parser with a bounded request head, bounded concurrency, idle connections closed."""
    settings: dict[str, object] = {
        "http": "h11",
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "limit_concurrency": MAX_CONNECTIONS,
        "timeout_keep_alive": 5,
        "server_header": False,
    }
    settings.update(options)
    return uvicorn.Config(app, **settings)  # type: ignore[arg-type]


def serve_foreground(
    app: ASGIApp,
    host: str,
    port: int,
    on_server: Callable[[uvicorn.Server], None] | None = None,
    **options: object,
) -> None:
    """uvicorn in the foreground on a socket bound first (``serve``, ``replay``);
    ``on_server`` sees the server before it runs (the replay's raw faults use it)."""
    sock = bind_socket(host, port)
    try:
        server = uvicorn.Server(server_config(app, **options))
        if on_server is not None:
            on_server(server)
        server.run(sockets=[sock])
    finally:
        sock.close()


class ThreadedServer:
    """The socket is bound in ``__init__`` so port 0 yields a free port known before start."""

    def __init__(self, app: ASGIApp, host: str, port: int):
        self._socket = bind_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(server_config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
