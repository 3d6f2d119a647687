"""A platform on a loopback port that answers the documented protocol in hostile shapes: late,
trickled byte by byte, behind endless `102 Processing`, stalled or cut off after the headers.

Written on raw sockets so that every byte and every pause is the test's choice.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass

_HOLD_S = 5.0


@dataclass(frozen=True)
class Shape:
    """How to deliver the (honest, signed) answer.

    kind: "delay" (wait, then all of it), "trickle" (one byte per `pause_s`), "interim" (`102
    Processing` every `pause_s`, `count` times, then the answer), "stall" (headers and `count`
    body bytes, then silence), "truncate" (headers and `count` body bytes, then close), "gzip"
    (the answer gzip-encoded, padded with `count` spaces before compression: a small download
    that inflates large; signed over the inflated bytes).
    """

    kind: str
    pause_s: float = 0.0
    count: int = 0


class HostilePlatform:
    """Signs honest answers with `secret`, then delivers them in the current `shape`."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.shape = Shape("delay")
        self.request_headers: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, self.shape), daemon=True).start()

    def _serve(self, conn: socket.socket, shape: Shape) -> None:
        with conn:
            try:
                headers, request = _read_request(conn)
                self.request_headers.append(headers)
                self._deliver(conn, shape, self._answer(request, shape))
            except (OSError, ValueError):
                pass  # the gate gave up on us: that is the point

    def _answer(self, request: bytes, shape: Shape) -> tuple[bytes, bytes]:
        nonce = json.loads(request)["nonce"]
        body = json.dumps(
            {
                "status": "green",
                "issuer": "CN-HOSTILE",
                "masked_name": None,
                "updated_at": int(time.time() * 1000),
                "ttl_s": 0,
                "nonce": nonce,
            }
        ).encode()
        encoding = ""
        if shape.kind == "gzip":
            body += b" " * shape.count
            signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            body, encoding = gzip.compress(body), "Content-Encoding: gzip\r\n"
        else:
            signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{encoding}"
            f"Content-Length: {len(body)}\r\nX-Signature: {signature}\r\n\r\n"
        ).encode()
        return head, body

    def _deliver(self, conn: socket.socket, shape: Shape, answer: tuple[bytes, bytes]) -> None:
        head, body = answer
        if shape.kind in ("delay", "gzip"):
            self._stop.wait(shape.pause_s)
            conn.sendall(head + body)
        elif shape.kind == "trickle":
            for byte in head + body:
                conn.sendall(bytes([byte]))
                if self._stop.wait(shape.pause_s):
                    return
        elif shape.kind == "interim":
            for _ in range(shape.count):
                conn.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
                if self._stop.wait(shape.pause_s):
                    return
            conn.sendall(head + body)
        elif shape.kind in ("stall", "truncate"):
            conn.sendall(head + body[: min(shape.count, len(body) - 1)])
            if shape.kind == "stall":
                self._stop.wait(_HOLD_S)
        else:
            raise ValueError(shape.kind)
        self._stop.wait(_HOLD_S if shape.kind != "truncate" else 0.0)


def _read_request(conn: socket.socket) -> tuple[dict[str, str], bytes]:
    conn.settimeout(_HOLD_S)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ValueError("closed before the headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            raise ValueError("closed before the body")
        body += chunk
    return headers, body
