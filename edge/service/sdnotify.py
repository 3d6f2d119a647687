"""systemd notification without dependencies: READY, STATUS, STOPPING and a guarded WATCHDOG.

Messages are datagrams on the AF_UNIX socket named by $NOTIFY_SOCKET (a leading "@" means the
abstract namespace). Outside systemd every call is a no-op that returns False.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

from edge.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to one socket; never raises."""

    def __init__(self, address: str | None) -> None:
        self._address = _socket_address(address) if address else None
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        """The notifier for $NOTIFY_SOCKET (disabled when unset)."""
        return cls((env if env is not None else os.environ).get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        """True when a notification socket is configured."""
        return self._address is not None

    def send(self, *assignments: str) -> bool:
        """Send "KEY=value" lines as one datagram; False when disabled or on a socket error."""
        if self._address is None:
            return False
        payload = "\n".join(assignments).encode()
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(
                        socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                    )
                # Never block the gate on a slow or stuck service manager: drop instead.
                self._sock.sendto(payload, socket.MSG_DONTWAIT, self._address)
            except OSError as exc:
                log.warning("systemd notification failed: %s", exc)
                return False
        return True

    def ready(self) -> bool:
        """Tell systemd start-up is complete."""
        return self.send("READY=1")

    def watchdog(self) -> bool:
        """Keep the service watchdog from expiring."""
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        """Tell systemd the service is shutting down."""
        return self.send("STOPPING=1")

    def status(self, text: str) -> bool:
        """Set the one-line status shown by systemctl status."""
        return self.send("STATUS=" + " ".join(text.split()))

    def close(self) -> None:
        """Close the socket."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _socket_address(name: str) -> str | bytes:
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


_default: Notifier | None = None
_default_lock = threading.Lock()


def default_notifier() -> Notifier:
    """The process-wide notifier for $NOTIFY_SOCKET, created on first use."""
    global _default  # noqa: PLW0603 - one socket per process, created lazily
    with _default_lock:
        if _default is None:
            _default = Notifier.from_env()
        return _default


def ready() -> bool:
    """READY=1 on $NOTIFY_SOCKET."""
    return default_notifier().ready()


def watchdog() -> bool:
    """WATCHDOG=1 on $NOTIFY_SOCKET."""
    return default_notifier().watchdog()


def stopping() -> bool:
    """STOPPING=1 on $NOTIFY_SOCKET."""
    return default_notifier().stopping()


def status(text: str) -> bool:
    """STATUS=text on $NOTIFY_SOCKET."""
    return default_notifier().status(text)


def watchdog_period(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The watchdog timeout in seconds from $WATCHDOG_USEC, if it is meant for this process."""
    env = env if env is not None else os.environ
    usec, owner = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and owner != str(pid if pid is not None else os.getpid()):
        return None
    return int(usec) / 1_000_000


class Watchdog:
    """Pings the systemd watchdog only while every registered worker has beaten recently.

    A worker either calls the function returned by register() or is probed through a function
    returning its last heartbeat (monotonic seconds). If any worker is stale, pings stop and
    systemd restarts the service once WatchdogSec expires.
    """

    def __init__(
        self,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        interval_s: float | None = None,
    ) -> None:
        self._notifier = notifier or default_notifier()
        self._clock = clock or SystemClock()
        period = watchdog_period()
        self.interval_s = interval_s if interval_s is not None else (period / 2 if period else None)
        self._lock = threading.Lock()
        self._probes: dict[str, tuple[Callable[[], float], float]] = {}
        self._beats: dict[str, float] = {}
        self._healthy = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self, name: str, max_age_s: float) -> Callable[[], None]:
        """Register a worker that must call the returned function at least every max_age_s."""
        with self._lock:
            self._beats[name] = self._clock.monotonic()
        self.register_probe(name, lambda: self._beats[name], max_age_s)
        return lambda: self._beat(name)

    def register_probe(self, name: str, heartbeat: Callable[[], float], max_age_s: float) -> None:
        """Register a worker whose last heartbeat (monotonic seconds) `heartbeat()` returns."""
        with self._lock:
            self._probes[name] = (heartbeat, max_age_s)

    def register_liveness(
        self, name: str, alive: Callable[[], bool], max_age_s: float = 5.0
    ) -> None:
        """Register a worker that has no heartbeat of its own: it counts as fresh while
        `alive()`, and goes stale max_age_s after it was last seen alive."""
        missing_since: list[float] = []

        def alive_at() -> float:
            now = self._clock.monotonic()
            if alive():
                missing_since.clear()
                return now
            if not missing_since:
                missing_since.append(now)
            return missing_since[0]

        self.register_probe(name, alive_at, max_age_s)

    def stale(self) -> list[str]:
        """Names of workers whose heartbeat is too old (or cannot be read)."""
        now = self._clock.monotonic()
        with self._lock:
            probes = list(self._probes.items())
        stale: list[str] = []
        for name, (heartbeat, max_age_s) in probes:
            try:
                fresh = now - heartbeat() <= max_age_s
            except Exception:
                log.exception("heartbeat of %s could not be read", name)
                fresh = False
            if not fresh:
                stale.append(name)
        return stale

    def tick(self) -> bool:
        """Ping if every worker is fresh; returns whether it pinged."""
        stale = self.stale()
        if stale:
            if self._healthy:
                log.error("watchdog withheld: stale worker(s) %s", ", ".join(stale))
                self._notifier.status("unhealthy: " + ", ".join(stale))
            self._healthy = False
            return False
        if not self._healthy:
            log.warning("all workers alive again")
            self._notifier.status("running")
        self._healthy = True
        return self._notifier.watchdog()

    def start(self) -> None:
        """Tick every interval_s on a thread (nothing to do when systemd wants no watchdog)."""
        if self.interval_s is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sd-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def _beat(self, name: str) -> None:
        with self._lock:
            self._beats[name] = self._clock.monotonic()

    def _loop(self) -> None:
        assert self.interval_s is not None
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval_s)
