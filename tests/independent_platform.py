"""A health-code platform and a client written only from docs/platform-api.md, sharing no code
with edge.platform or central: the standard library's http.server, urllib, json and hmac.

The platform can also misbehave on purpose (wrong signature, wrong nonce, silence, any body), to
prove that the gate never trusts such an answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WINDOW_MS = 300_000


def hmac_hex(secret: bytes, data: bytes) -> str:
    return hmac.new(secret, data, hashlib.sha256).hexdigest()


@dataclass
class Behaviour:
    """How the platform answers: honestly, or one of the ways a spoofed platform might."""

    mode: str = "honest"  # honest | bad_signature | wrong_nonce | silent | shaped | http_error
    document: Any = None  # shaped: this JSON value (or raw_body when given) is the answer
    raw_body: bytes | None = None
    echo_nonce: bool = False  # shaped: set the document's "nonce" to the request's
    sign_ok: bool = False  # shaped: sign with the shared secret (else a wrong signature)
    http_status: int = 503


@dataclass
class IndependentPlatform:
    """Holders by ID number and tokens, each with a status; answers per the documented protocol."""

    secrets: dict[str, bytes]
    holders: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    issuer: str = "CN-ELSEWHERE"
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[dict[str, Any]] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        platform = self
        self._release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status, payload, signature = platform.handle(
                    self.path, body, self.headers.get("X-Signature")
                )
                if status == 0:  # silent: hold the connection open, say nothing
                    platform._release.wait(30)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if signature is not None:
                    self.send_header("X-Signature", signature)
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> IndependentPlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def handle(
        self, path: str, body: bytes, signature: str | None
    ) -> tuple[int, bytes, str | None]:
        if path != "/v1/verify":
            return 404, b'{"error":"not found"}', None
        try:
            request = json.loads(body)
            secret = self.secrets[request["app_id"]]
        except (ValueError, KeyError, TypeError):
            return 401, b'{"error":"unknown application"}', None
        if signature is None or not hmac.compare_digest(hmac_hex(secret, body), signature):
            return 401, b'{"error":"bad signature"}', None
        if abs(time.time() * 1000 - request["ts"]) > WINDOW_MS:
            return 401, b'{"error":"stale"}', None
        if (request["app_id"], request["nonce"]) in self.seen:
            return 401, b'{"error":"replay"}', None
        self.seen.add((request["app_id"], request["nonce"]))
        self.requests.append(request)
        mode = self.behaviour.mode
        if mode == "silent":
            return 0, b"", None
        if mode == "http_error":
            return self.behaviour.http_status, b'{"error":"trouble"}', None
        if mode == "shaped":
            return self._shaped(request["nonce"], secret)
        table = self.holders if request["cert_type"] == "id_card" else self.tokens
        answer = {
            "status": table.get(request["cert_value"], "not_found"),
            "issuer": self.issuer,
            "masked_name": None,
            "updated_at": int(time.time() * 1000),
            "ttl_s": 0,
            "nonce": request["nonce"] if mode != "wrong_nonce" else os.urandom(16).hex(),
        }
        payload = json.dumps(answer).encode()
        signed = hmac_hex(secret, payload)
        if mode == "bad_signature":
            signed = hmac_hex(b"someone else's secret", payload)
        return 200, payload, signed

    def _shaped(self, nonce: str, secret: bytes) -> tuple[int, bytes, str | None]:
        behaviour = self.behaviour
        document = behaviour.document
        if behaviour.echo_nonce and isinstance(document, dict):
            document = {**document, "nonce": nonce}
        payload = behaviour.raw_body
        if payload is None:
            payload = json.dumps(document).encode()
        key = secret if behaviour.sign_ok else b"not the shared secret"
        return 200, payload, hmac_hex(key, payload)


class BlackHole:
    """A port that accepts connections and never answers (a platform that hangs)."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def close(self) -> None:
        self._sock.close()


def independent_request(
    url: str,
    app_id: str,
    secret: bytes,
    cert_type: str,
    cert_value: str,
    *,
    nonce: str | None = None,
    ts_ms: int | None = None,
    sign_with: bytes | None = None,
) -> tuple[int, dict[str, Any] | None, bool]:
    """Ask a platform: (HTTP status, answer or None, answer signature and nonce verified)."""
    nonce = nonce or os.urandom(16).hex()
    body = json.dumps(
        {
            "app_id": app_id,
            "terminal": "independent/1",
            "ts": int(time.time() * 1000) if ts_ms is None else ts_ms,
            "nonce": nonce,
            "cert_type": cert_type,
            "cert_value": cert_value,
        }
    ).encode()
    request = urllib.request.Request(
        url + "/v1/verify",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Signature": hmac_hex(sign_with or secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
            signature = response.headers.get("X-Signature") or ""
            answer = json.loads(payload)
            trusted = hmac.compare_digest(hmac_hex(secret, payload), signature) and (
                answer.get("nonce") == nonce
            )
            return response.status, answer, trusted
    except urllib.error.HTTPError as exc:
        return exc.code, None, False
