"""A real HTTP server on 127.0.0.1 for the scraper tests: real sockets, real httpx.

Each path is a ``Route`` saying how to misbehave: answer slowly, fail with a sequence of
statuses (500 then 200; 429 with Retry-After), cut the body short, redirect in a loop,
send 10 MB, gzip the body, or honour ETag / Last-Modified with a 304. The server records
every request (path, time, headers) so tests can check what the client actually did.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/csv; charset=utf-8"
    statuses: list[int] = field(default_factory=list)  # answered in turn before the body is served
    headers: dict[str, str] = field(default_factory=dict)  # sent with those statuses (e.g. Retry-After)
    delay: float = 0.0  # seconds before the answer starts
    etag: bool = False
    last_modified: str | None = None
    gzip: bool = False
    truncate_at: int | None = None  # send this many bytes of a longer declared Content-Length, then close
    redirect_to: str | None = None
    chunked: bool = False  # no Content-Length: the size is only known while streaming

    def tag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up early (timeouts, size caps) are what the tests provoke


@dataclass
class Hit:
    path: str
    at: float
    headers: dict[str, str]


class FixtureServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.httpd = _Quiet(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route | None = None, **kwargs) -> str:
        self.routes[path] = route or Route(**kwargs)
        return self.url(path)

    def hits_of(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def start(self) -> "FixtureServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _record(self, path: str, headers) -> None:
        with self._lock:
            self.hits.append(Hit(path, time.monotonic(), {k.lower(): v for k, v in headers.items()}))

    def _enter(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server._enter(1)
                try:
                    self._answer()
                finally:
                    server._enter(-1)

            def _answer(self) -> None:
                path = self.path.split("?")[0]
                server._record(path, self.headers)
                route = server.routes.get(path)
                if route is None:
                    return self._send(404, b"not found", "text/plain")
                if route.delay:
                    time.sleep(route.delay)
                if route.redirect_to:
                    return self._send(302, b"", "text/plain", {"Location": route.redirect_to})
                if route.statuses:
                    status = route.statuses.pop(0)
                    return self._send(status, f"status {status}".encode(), "text/plain", route.headers)
                self._serve(route)

            def _serve(self, route: Route) -> None:
                headers = {}
                if route.etag:
                    headers["ETag"] = route.tag()
                    if self.headers.get("If-None-Match") == route.tag():
                        return self._send(304, b"", None, headers)
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                    if self.headers.get("If-Modified-Since") == route.last_modified and not route.etag:
                        return self._send(304, b"", None, headers)
                body = route.body
                if route.gzip and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                if route.truncate_at is not None:
                    return self._truncated(route, body, headers)
                if route.chunked:
                    return self._chunked(route, body, headers)
                self._send(200, body, route.content_type, headers)

            def _send(self, status: int, body: bytes, content_type: str | None, headers=None) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def _truncated(self, route: Route, body: bytes, headers) -> None:
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[:route.truncate_at])
                self.wfile.flush()
                self.close_connection = True

            def _chunked(self, route: Route, body: bytes, headers) -> None:
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for start in range(0, len(body), 65536):
                        chunk = body[start:start + 65536]
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: that is what the size cap does
                self.close_connection = True

        return Handler
