"""Shared pytest fixtures: a real mosquitto on a free loopback port (plain, TLS, mutual TLS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import Broker


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
