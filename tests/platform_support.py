"""Reference platforms on free loopback ports, valid ID numbers and gate-side settings for tests."""

from __future__ import annotations

import time
from pathlib import Path

from central.platform.api import PlatformSetup
from central.platform.limits import REQUEST_TIMEOUT_S
from central.platform.privacy import load_or_create_key, lookup_key
from central.platform.server import RunningPlatform
from central.platform.store import PlatformStore, Record
from edge.platform.settings import PlatformRoute, PlatformSettings

APP_ID = "gate-operator-1"
SECRET = b"0123456789abcdef-test-secret"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]  # 2^(17-i) mod 11, from GB 11643


def resident_id(first17: str) -> str:
    """A valid 18-character ID number (check character computed here, independently)."""
    assert len(first17) == 17 and first17.isdigit()
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


class ReferencePlatform:
    """`gate-central`'s platform over a store (SQLite file by default) on a free port."""

    def __init__(
        self,
        directory: Path,
        *,
        issuer: str = "CN-150000",
        target: str | None = None,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.store = PlatformStore(target or str(directory / "platform.db"))
        self.key = load_or_create_key(directory / "lookup.key")
        self.store.put_app(APP_ID, SECRET.decode())
        self.issuer = issuer
        setup = PlatformSetup(self.store, self.key, issuer, ttl_s=30)
        self.running = RunningPlatform(setup, request_timeout_s=request_timeout_s)

    @property
    def url(self) -> str:
        return self.running.url

    def start(self) -> ReferencePlatform:
        self.running.start()
        return self

    def stop(self) -> None:
        self.running.stop()
        self.store.close()

    def holder(self, number: str, status: str, name: str | None = "张三") -> None:
        record = Record(status, self.issuer, name and name[0] + "*", int(time.time() * 1000))
        self.store.put_holder(lookup_key(self.key, "id_card", number), record)

    def token(self, text: str, status: str, expires_at: float | None = None) -> None:
        record = Record(
            status,
            self.issuer,
            None,
            int(time.time() * 1000),
            None if expires_at is None else int(expires_at * 1000),
        )
        self.store.put_token(lookup_key(self.key, "qr_code", text), record)


def settings(
    url: str,
    *,
    timeout_ms: int = 3000,
    fallback: str = "offline",
    code_prefixes: tuple[str, ...] = ("PLT1:",),
    routes: tuple[tuple[str, str], ...] = (),
) -> PlatformSettings:
    return PlatformSettings(
        url=url,
        app_id=APP_ID,
        app_secret_file="platform.secret",
        timeout_ms=timeout_ms,
        fallback=fallback,  # type: ignore[arg-type]
        code_prefixes=list(code_prefixes),
        routes=[PlatformRoute(prefix, target) for prefix, target in routes],
    )
