"""The reference platform over both stores: SQLite, and a real PostgreSQL server started here."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from central.errors import CentralError
from central.platform.store import PlatformStore
from tests.independent_platform import independent_request
from tests.platform_support import APP_ID, SECRET, ReferencePlatform, resident_id
from tests.postgres import PostgresServer
from tests.waiting import free_port

HOLDER = resident_id("15010419700707333")
UNKNOWN = resident_id("11010119800808444")


@pytest.fixture(params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReferencePlatform]:
    target = None
    if request.param == "postgresql":
        target = request.getfixturevalue("postgres_url")
        _reset(target)
    running = ReferencePlatform(tmp_path / "platform", target=target).start()
    yield running
    running.stop()


def _reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS apps, holders, tokens, nonces")


def test_statuses_replay_and_privacy_in_the_store(platform: ReferencePlatform) -> None:
    platform.holder(HOLDER, "yellow", name="赵六")
    platform.token("PLT1:gone", "green", expires_at=time.time() - 1)
    url = platform.url

    def ask(kind: str, value: str, **kwargs: object) -> tuple[int, str | None]:
        status, answer, trusted = independent_request(url, APP_ID, SECRET, kind, value, **kwargs)  # type: ignore[arg-type]
        assert trusted or answer is None
        return status, None if answer is None else str(answer["status"])

    assert ask("id_card", HOLDER) == (200, "yellow")
    assert ask("id_card", UNKNOWN) == (200, "not_found")
    assert ask("qr_code", "PLT1:gone") == (200, "expired")
    platform.holder(HOLDER, "green", name="赵六")
    assert ask("id_card", HOLDER) == (200, "green")
    assert ask("id_card", HOLDER, nonce="cd" * 16) == (200, "green")
    assert ask("id_card", HOLDER, nonce="cd" * 16) == (401, None)
    assert ask("id_card", HOLDER, ts_ms=int(time.time() * 1000) + 400_000) == (401, None)

    dump = repr(
        [
            platform.store._execute(f"SELECT * FROM {t}", ())[1]
            for t in ("holders", "tokens", "apps")
        ]
    )
    assert HOLDER not in dump and "PLT1:gone" not in dump and "赵六" not in dump
    assert "赵*" in dump


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(CentralError, match="cannot connect"):
        PlatformStore(f"postgresql://gate@127.0.0.1:{free_port()}/postgres?connect_timeout=2")


def _health(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/v1/health", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_platform_recovers_after_a_database_restart(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    _reset(postgres_server.url)
    platform = ReferencePlatform(tmp_path / "platform", target=postgres_server.url).start()
    try:
        platform.holder(HOLDER, "green")
        url = platform.url
        assert independent_request(url, APP_ID, SECRET, "id_card", HOLDER)[0] == 200
        assert _health(url) == 200
        postgres_server.stop()
        assert independent_request(url, APP_ID, SECRET, "id_card", HOLDER)[0] == 503
        assert _health(url) == 503
        postgres_server.start()
        status, answer, trusted = independent_request(url, APP_ID, SECRET, "id_card", HOLDER)
        assert (status, trusted, answer and answer["status"]) == (200, True, "green")
        assert _health(url) == 200
    finally:
        platform.stop()
