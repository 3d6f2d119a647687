"""Shared pytest fixtures: the demo gate's configuration, a real mosquitto on a free loopback port
(plain, TLS, mutual TLS) and a throw-away PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import Broker
from tests.gate_support import GateConfig
from tests.postgres import PostgresServer, postgres_bin


@pytest.fixture
def gate_config(tmp_path: Path) -> GateConfig:
    """The demo gate's settings with the tests' timings, for the test to override section by
    section: `gate_config(relay={...})` as parsed TOML, `gate_config.file(...)` as gate.toml."""
    return GateConfig(tmp_path)


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[Broker]:
    """A plain-TCP mosquitto with persistence, started for one test."""
    with Broker(tmp_path / "broker") as broker:
        yield broker


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[Broker]:
    """A mosquitto speaking TLS with a throw-away CA (broker.ca)."""
    with Broker(tmp_path / "broker", tls=True) as broker:
        yield broker


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole run (initdb into a temp dir, a free port)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL binaries (initdb, pg_ctl) are not installed; "
            "scripts/bootstrap.sh installs them"
        )
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of the shared PostgreSQL server (tests drop what they create)."""
    return postgres_server.url
