"""A throw-away PostgreSQL cluster on a free loopback port (initdb into a temp dir), restartable."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.waiting import free_port


def postgres_bin() -> Path | None:
    """The directory of initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PostgresServer:
    """initdb into a temp directory, pg_ctl start/stop on one port; fsync off unless asked."""

    def __init__(self, bin_dir: Path, *, fsync: bool = False) -> None:
        self.fsync = fsync
        self.directory = Path(tempfile.mkdtemp(prefix="gate-central-pg-"))
        self._run_as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            user = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            self._run_as = ["runuser", "-u", user.pw_name, "--"]
        self.port = free_port()
        data = self.directory / "data"
        subprocess.run(
            [*self._run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust",
             "-U", "gate", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        self._pg_ctl = [*self._run_as, str(bin_dir / "pg_ctl"), "-D", str(data)]

    @property
    def url(self) -> str:
        return f"postgresql://gate@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*self._pg_ctl, "-o", options, "-l", str(self.directory / "log"), "-w", "-t", "60",
             "start"],
            check=True,
            capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        """An immediate stop: connections are cut as by a crash."""
        subprocess.run([*self._pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
