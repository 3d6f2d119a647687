"""Tests of systemd notification and the guarded watchdog over real AF_UNIX sockets."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.clock import FakeClock
from edge.service import sdnotify
from edge.service.sdnotify import Notifier, Watchdog, watchdog_period


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield path, sock
    sock.close()


def received(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_messages_reach_a_path_socket(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    notifier = Notifier(path)
    assert notifier.enabled
    assert notifier.ready()
    assert notifier.status("serving  gate\ng01")
    assert notifier.watchdog()
    assert notifier.stopping()
    assert [received(sock) for _ in range(4)] == [
        "READY=1",
        "STATUS=serving gate g01",
        "WATCHDOG=1",
        "STOPPING=1",
    ]
    notifier.close()


def test_abstract_namespace_socket() -> None:
    name = f"gate-edge-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        assert Notifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready()
        assert received(sock) == "READY=1"
    finally:
        sock.close()


def test_module_functions_use_notify_socket(
    listener: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sock = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setattr(sdnotify, "_default", None)
    assert sdnotify.ready() and sdnotify.status("up") and sdnotify.watchdog()
    assert sdnotify.stopping()
    assert [received(sock) for _ in range(4)] == [
        "READY=1",
        "STATUS=up",
        "WATCHDOG=1",
        "STOPPING=1",
    ]


def test_without_socket_everything_is_a_quiet_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(sdnotify, "_default", None)
    assert not sdnotify.ready()
    assert not Notifier(None).watchdog()


def test_missing_socket_does_not_raise(tmp_path: Path) -> None:
    assert not Notifier(str(tmp_path / "gone.sock")).ready()


@pytest.mark.parametrize(
    ("env", "period"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "20000000"}, 20.0),
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "4242"}, 20.0),
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_period(env: dict[str, str], period: float | None) -> None:
    assert watchdog_period(env, pid=4242) == period


def test_interval_is_half_the_systemd_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert Watchdog(Notifier(None)).interval_s == 5.0
    monkeypatch.delenv("WATCHDOG_USEC")
    assert Watchdog(Notifier(None)).interval_s is None


def test_pings_only_while_every_worker_is_fresh(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    clock = FakeClock()
    dog = Watchdog(Notifier(path), clock, interval_s=1.0)
    beat_scanner = dog.register("scanner", max_age_s=2.0)
    controller_beat = [clock.monotonic()]
    dog.register_probe("controller", lambda: controller_beat[0], max_age_s=10.0)

    assert dog.tick()
    assert received(sock) == "WATCHDOG=1"

    clock.advance(3.0)  # the scanner has gone quiet
    assert not dog.tick()
    assert dog.stale() == ["scanner"]
    assert received(sock) == "STATUS=unhealthy: scanner"
    assert not dog.tick()  # no second status, no ping

    beat_scanner()
    assert dog.tick()
    assert [received(sock), received(sock)] == ["STATUS=running", "WATCHDOG=1"]

    clock.advance(8.0)
    beat_scanner()
    assert not dog.tick()
    assert dog.stale() == ["controller"]


def test_unreadable_heartbeat_counts_as_stale() -> None:
    dog = Watchdog(Notifier(None), FakeClock(), interval_s=1.0)

    def broken() -> float:
        raise RuntimeError("gone")

    dog.register_probe("mqtt", broken, 5.0)
    assert dog.stale() == ["mqtt"]


def test_thread_keeps_pinging(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    dog = Watchdog(Notifier(path), interval_s=0.01)
    dog.register_probe("worker", lambda: 1e18, max_age_s=1.0)  # always fresh
    dog.start()
    try:
        assert [received(sock) for _ in range(3)] == ["WATCHDOG=1"] * 3
    finally:
        dog.stop()


def test_no_thread_when_systemd_wants_no_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    dog = Watchdog(Notifier(None))
    dog.start()
    assert dog._thread is None
    dog.stop()


def test_a_worker_thread_that_died_stops_the_pings() -> None:
    clock = FakeClock()
    dog = Watchdog(Notifier(None), clock, interval_s=1.0)
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="probe-worker", daemon=True)
    worker.start()
    running = [worker]

    def alive() -> bool:
        return running[0].is_alive()

    dog.register_liveness("mqtt_outbox", alive, max_age_s=5.0)
    assert dog.stale() == []
    release.set()
    worker.join()
    assert dog.stale() == []  # just died: within the grace period
    clock.advance(6.0)
    assert dog.stale() == ["mqtt_outbox"]
    restarted = threading.Thread(target=threading.Event().wait, args=(5,), name="probe-worker-2")
    restarted.daemon = True
    restarted.start()
    running[0] = restarted
    assert dog.stale() == []
