"""The fleet page's HTTP app: log in with the token, then the page and its JSON; nothing else."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from central.collect.store import FleetStore
from central.errors import CentralError
from central.fleet.queries import gate_facts, hourly, recent_decisions, recent_results
from central.fleet.view import fleet
from edge.ids import id_problem

COOKIE = "fleet_session"
SESSION_S = 12 * 3600
_STATIC = {"fleet.js": "text/javascript", "fleet.css": "text/css"}
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _asset(name: str) -> str:
    return resources.files("central.fleet").joinpath("static", name).read_text("utf-8")


class Sessions:
    """Logged-in browsers by a random cookie value, each for SESSION_S."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def open(self) -> str:
        """Start a session and return its cookie value (dropping expired sessions)."""
        session = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._until = {k: v for k, v in self._until.items() if v > now}
            self._until[session] = now + SESSION_S
        return session

    def valid(self, session: str | None) -> bool:
        """True when the cookie names a session that has not expired."""
        if not session:
            return False
        with self._lock:
            return self._until.get(session, 0.0) > self._clock()

    def close(self, session: str | None) -> None:
        """End the session (logging out); nothing when it is unknown."""
        with self._lock:
            self._until.pop(session or "", None)


def create_app(
    store: FleetStore,
    token: str,
    refresh_s: float,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The app over one store; `token` is what operators type to log in."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    sessions = Sessions(clock)
    expected = token.encode()

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            return hmac.compare_digest(header[7:].encode(), expected)
        return sessions.valid(request.cookies.get(COOKIE))

    def require(request: Request) -> None:
        if not authorised(request):
            raise HTTPException(status_code=401, detail="log in first")

    def now_ms() -> int:
        return int(clock() * 1000)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(_HEADERS)
        return response

    @app.get("/login")
    def login_page() -> HTMLResponse:
        return HTMLResponse(_asset("login.html"))

    @app.post("/login")
    async def login(request: Request) -> Response:
        body = await request.body()
        fields = parse_qs(body[:4096].decode("utf-8", errors="replace"))
        given = (fields.get("token") or [""])[0].strip().encode()
        if not hmac.compare_digest(given, expected):
            return RedirectResponse("/login?failed=1", status_code=303)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.open(),
            max_age=SESSION_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",  # behind a TLS proxy (X-Forwarded-Proto)
        )
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/")
    def page(request: Request) -> Response:
        if not authorised(request):
            return RedirectResponse("/login", status_code=303)
        return HTMLResponse(_asset("index.html"))

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in _STATIC:
            raise HTTPException(status_code=404)
        return Response(_asset(name), media_type=_STATIC[name])

    @app.get("/api/fleet")
    def fleet_json(request: Request) -> JSONResponse:
        require(request)
        now = now_ms()
        try:
            rows = fleet(gate_facts(store, now), now)
        except CentralError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        return JSONResponse(
            {"now_ms": now, "refresh_s": refresh_s, "gates": [r.as_dict() for r in rows]}
        )

    @app.get("/api/gates/{site}/{gate}")
    def gate_json(site: str, gate: str, request: Request) -> JSONResponse:
        require(request)
        if id_problem(site) or id_problem(gate):
            raise HTTPException(status_code=404)
        now = now_ms()
        try:
            rows = [
                r for r in fleet(gate_facts(store, now), now) if (r.site, r.gate) == (site, gate)
            ]
            if not rows:
                raise HTTPException(status_code=404)
            decisions = recent_decisions(store, site, gate)
            hours = hourly(store, site, gate, now)
            results = recent_results(store, site, gate)
        except CentralError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        return JSONResponse(
            {
                "now_ms": now,
                "gate": rows[0].as_dict(),
                "decisions": [asdict(d) for d in decisions],
                "hourly": hours,
                "commands": results,
            }
        )

    return app
