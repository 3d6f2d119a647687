"""The screen's local web server: the page (/), its state as JSON (/state) and its updates as
server-sent events (/events); stdlib only, a thread per client, nothing cached by the browser."""

from __future__ import annotations

import json
import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from edge.errors import GateEdgeError
from edge.screen.feed import ScreenFeed

log = logging.getLogger(__name__)

MONGOLIAN_FONT = Path("/usr/share/fonts/truetype/noto/NotoSansMongolian-Regular.ttf")
MAX_STREAMS = 8
KEEPALIVE_S = 15.0
PUSH_SETTLE_S = 0.01
"""A change is pushed this long after it happened, with whatever followed it: the controller
goes from its decision to the relay pulse first, and a burst of changes is rendered once."""
SERVER_THREAD = "screen-http"
_ASSETS = {
    "/": ("page.html", "text/html; charset=utf-8"),
    "/screen.css": ("screen.css", "text/css; charset=utf-8"),
    "/screen.js": ("screen.js", "text/javascript; charset=utf-8"),
}
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


class ScreenServerError(GateEdgeError):
    """The screen's server could not listen."""


def _asset(name: str) -> bytes:
    return (resources.files("edge.screen") / "page" / name).read_bytes()


class ScreenServer:
    """Serves one feed on host:port (port 0: a free one) from a background thread."""

    def __init__(self, feed: ScreenFeed, host: str, port: int) -> None:
        self.feed = feed
        self._assets = {path: (_asset(name), kind) for path, (name, kind) in _ASSETS.items()}
        self._streams = threading.BoundedSemaphore(MAX_STREAMS)
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str | None:
        """The page's address (None before start)."""
        if self._httpd is None:
            return None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        """Listen, then serve from a background thread."""
        handler = type("Handler", (_PageHandler,), {"screen": self})
        host, port = self._address
        try:
            self._httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ScreenServerError(f"screen: cannot listen on {host}:{port}: {exc}") from exc
        self._httpd.daemon_threads = True
        self.revive()

    def revive(self) -> None:
        """Serve from a fresh thread should the serving one have died (not after stop())."""
        if self._httpd is None or self.feed.closed or self.alive():
            return
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=SERVER_THREAD, daemon=True
        )
        self._thread.start()

    def alive(self) -> bool:
        """The serving thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving; open event streams end."""
        self.feed.close()
        if self._httpd is None:
            return
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(2.0)
        self._httpd.server_close()


class _PageHandler(BaseHTTPRequestHandler):
    screen: ScreenServer
    protocol_version = "HTTP/1.1"
    server_version = "gate-screen"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in self.screen._assets:
            body, kind = self.screen._assets[path]
            self._send(HTTPStatus.OK, body, kind)
        elif path == "/state":
            _, document = self.screen.feed.current()
            self._send(HTTPStatus.OK, _json(document), "application/json")
        elif path == "/events":
            self._stream()
        elif path == "/font/mongolian.ttf" and MONGOLIAN_FONT.is_file():
            self._send(HTTPStatus.OK, MONGOLIAN_FONT.read_bytes(), "font/ttf")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"read only\n", "text/plain")

    do_PUT = do_DELETE = do_PATCH = do_POST  # noqa: N815 (http.server's handler names)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("screen: " + format, *args)

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self._headers(kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _headers(self, kind: str) -> None:
        self.send_header("Content-Type", kind)
        for name, value in _HEADERS.items():
            self.send_header(name, value)

    def _stream(self) -> None:
        if not self.screen._streams.acquire(blocking=False):
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"too many screens\n", "text/plain")
            return
        try:
            self.send_response(HTTPStatus.OK)
            self._headers("text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(b"retry: 1000\n\n")  # reconnect within a second of a restart
            self._push_until_closed()
        except OSError:
            pass  # the browser went away
        finally:
            self.screen._streams.release()

    def _push_until_closed(self) -> None:
        feed = self.screen.feed
        seq = -1
        while not feed.closed:
            if feed.wait_after(seq, KEEPALIVE_S):
                time.sleep(PUSH_SETTLE_S)
                seq, document = feed.current()
                self.wfile.write(b"data: " + _json(document) + b"\n\n")
            else:
                self.wfile.write(b": keepalive\n\n")
            self.wfile.flush()


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
