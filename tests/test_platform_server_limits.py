"""The reference platform against slow clients: a request that does not arrive whole in time is
disconnected, and honest gates are answered meanwhile."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.independent_platform import independent_request
from tests.platform_support import APP_ID, SECRET, ReferencePlatform, resident_id

HOLDER = resident_id("15010219500101123")
SLOW_CLIENTS = 48


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[ReferencePlatform]:
    running = ReferencePlatform(tmp_path / "platform", request_timeout_s=0.5).start()
    running.holder(HOLDER, "green")
    yield running
    running.stop()


def _slow_client(port: int, index: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if index % 2:  # headers that never end
        sock.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: platform\r\nX-Slow: ")
    else:  # complete headers, a body that never comes
        sock.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: platform\r\nContent-Length: 400\r\n\r\n{")
    return sock


def _closed_by_the_server(sock: socket.socket) -> bool:
    try:
        while sock.recv(4096):
            pass  # an error answer may come first
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_slow_clients_are_cut_off_and_gates_are_answered(platform: ReferencePlatform) -> None:
    port = platform.running.port
    slow = [_slow_client(port, index) for index in range(SLOW_CLIENTS)]
    try:
        status, answer, trusted = independent_request(
            platform.url, APP_ID, SECRET, "id_card", HOLDER
        )
        assert (status, trusted, answer and answer["status"]) == (200, True, "green")
        assert all(_closed_by_the_server(sock) for sock in slow)
    finally:
        for sock in slow:
            sock.close()
