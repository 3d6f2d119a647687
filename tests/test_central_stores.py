"""The reference platform over both stores: SQLite, and a real PostgreSQL server started here."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
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

HOLDER = resident_id("15010419700707333")
UNKNOWN = resident_id("11010119800808444")


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[Cluster]:
    """A throw-away PostgreSQL cluster on a free loopback port (initdb into a temp dir)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL binaries (initdb, pg_ctl) are not installed; "
            "scripts/bootstrap.sh installs them"
        )
    directory = Path(tempfile.mkdtemp(prefix="gate-central-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
        os.chown(directory, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", user.pw_name, "--"]
    data, port = directory / "data", _free_port()
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "gate",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    cluster = Cluster([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data)], directory, port)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url(postgres_cluster: Cluster) -> str:
    return postgres_cluster.url


class Cluster:
    """A PostgreSQL cluster in a temporary directory, started and stopped with pg_ctl."""

    def __init__(self, pg_ctl: list[str], directory: Path, port: int) -> None:
        self._pg_ctl, self._directory, self.port = pg_ctl, directory, port
        self.url = f"postgresql://gate@127.0.0.1:{port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self._directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self._directory / "log")
        subprocess.run(
            [*self._pg_ctl, "-o", options, "-l", log, "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run([*self._pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


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
        PlatformStore(f"postgresql://gate@127.0.0.1:{_free_port()}/postgres?connect_timeout=2")


def _health(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/v1/health", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_platform_recovers_after_a_database_restart(
    postgres_cluster: Cluster, tmp_path: Path
) -> None:
    _reset(postgres_cluster.url)
    platform = ReferencePlatform(tmp_path / "platform", target=postgres_cluster.url).start()
    try:
        platform.holder(HOLDER, "green")
        url = platform.url
        assert independent_request(url, APP_ID, SECRET, "id_card", HOLDER)[0] == 200
        assert _health(url) == 200
        postgres_cluster.stop()
        assert independent_request(url, APP_ID, SECRET, "id_card", HOLDER)[0] == 503
        assert _health(url) == 503
        postgres_cluster.start()
        status, answer, trusted = independent_request(url, APP_ID, SECRET, "id_card", HOLDER)
        assert (status, trusted, answer and answer["status"]) == (200, True, "green")
        assert _health(url) == 200
    finally:
        platform.stop()
