"""The one loopback HTTP server of the suite: every stand-in service is this server plus a handler.

:class:`LoopbackServer` listens on 127.0.0.1, port 0 (the kernel picks a free one), answers each
connection on its own daemon thread (``ThreadingHTTPServer``), optionally over TLS, and starts and
stops as a context manager. A stand-in subclasses it and names its request handler in
:attr:`LoopbackServer.handler`, a subclass of :class:`Handler` that reaches the stand-in's state as
``self.owner``; a one-off server passes the handler class to the constructor instead.

What every stand-in shares lives here: the request log (:attr:`LoopbackServer.log`, appended under a
lock by :meth:`Handler.record`), :attr:`LoopbackServer.latency` (:meth:`Handler.pause`), and faults
injected for the next ``times`` requests whose path matches a pattern (:meth:`LoopbackServer.fail`,
taken by :meth:`Handler.take_fault`); each stand-in answers a fault the way the service it plays
does (GitHub's rate limits, OTLP's ``Retry-After``). :meth:`Handler.truncated` sends a body shorter
than its ``Content-Length`` and closes the connection (a reset mid-answer); :meth:`Handler.send`
writes a complete answer.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar


@dataclass
class Fault:
    """``kind`` (what the stand-in makes of it), for the next ``times`` requests matching ``pattern``."""

    pattern: re.Pattern
    kind: str
    times: int
    value: float = 1.0
    body: bytes = b""


class Handler(BaseHTTPRequestHandler):
    """A request handler of :class:`LoopbackServer`: quiet, with the owner's log, latency and faults."""

    owner: Any  # the LoopbackServer (a stand-in) this handler answers for

    def log_message(self, *args: Any) -> None:  # quiet: tests read the owner's log
        pass

    def record(self, entry: Any) -> None:
        with self.owner.lock:
            self.owner.log.append(entry)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def pause(self) -> None:
        if self.owner.latency:
            time.sleep(self.owner.latency)

    def take_fault(self, path: str = "") -> Fault | None:
        return self.owner.take_fault(path)

    def send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | Iterable[tuple[str, str]] = (), *,
             length: int | None = None) -> None:
        """``status`` with ``headers`` (a mapping, or pairs when a name repeats) and ``body``; ``Content-Length``
        is ``length`` when given (a short body)."""
        self.send_response(status)
        for key, value in (headers.items() if isinstance(headers, Mapping) else headers):
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def truncated(self, status: int, body: bytes, length: int, headers: Mapping[str, str] = {}) -> None:  # noqa: B006
        """Announce ``length`` bytes, send ``body`` (fewer), close the connection: a reset mid-answer."""
        self.close_connection = True
        self.send(status, body, headers, length=length)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (the tests' timeouts and truncations do) is no server error; others print."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """127.0.0.1, port 0, a daemon thread per connection; ``with server:`` or :meth:`start`/:meth:`stop`."""

    handler: ClassVar[type[BaseHTTPRequestHandler] | None] = None
    request_queue_size = 5  # http.server's default; a stand-in expecting bursts raises it

    def __init__(self, handler: type[BaseHTTPRequestHandler] | None = None, *,
                 tls: tuple[Path, Path] | None = None, latency: float = 0.0) -> None:
        self._handler = handler or type(self).handler
        self.tls = tls  # (certificate, key): serve HTTPS
        self.latency = latency
        self.log: list[Any] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self._server: _Server | None = None

    def start(self) -> str:
        assert self._handler is not None, "a LoopbackServer needs a handler"
        bound = type("Bound" + self._handler.__name__, (self._handler,), {"owner": self})
        server = _Server(("127.0.0.1", 0), bound, bind_and_activate=False)
        server.request_queue_size = self.request_queue_size
        try:
            server.server_bind()
            server.server_activate()
        except OSError:
            server.server_close()
            raise
        if self.tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        # serve_forever looks for shutdown() every poll_interval; its default, 0.5 s, was half a second
        # of every test that stops a server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self.url

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not started"
        return self._server.server_address[1]

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as an image reference or a proxy names the server."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ faults
    def fail(self, pattern: str, kind: str, times: int = 1, value: float = 1.0, body: bytes = b"") -> None:
        """The next ``times`` requests whose path matches ``pattern`` get fault ``kind``."""
        self.faults.append(Fault(re.compile(pattern), kind, times, value, body))

    def take_fault(self, path: str = "") -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None
