#!/usr/bin/python3
"""Install, switch and roll back gate-edge releases under /opt/gate-edge (standard library only).

    gate-edge-release install VERSION      make releases/VERSION from the packaged wheels, offline
    gate-edge-release activate VERSION     switch to it; back to the previous one if not READY
    gate-edge-release rollback             switch back to the previous release
    gate-edge-release status               the release state (JSON)

Each release is a virtual environment in /opt/gate-edge/releases/VERSION; `current` and
`previous` are symbolic links to two of them and every other release is removed. After a
switch the new release must reach READY (systemd notify) within the bound, else the previous
one is put back and /var/lib/gate-edge/release.json says so (the gate shows it on its status).
Where systemd is not running (an image being built, a container), the trial runs the service
directly with a notification socket of its own, when there is a configuration to run it with.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PREFIX = Path(os.environ.get("GATE_EDGE_PREFIX", "/opt/gate-edge"))
STATE = Path(os.environ.get("GATE_EDGE_STATE", "/var/lib/gate-edge")) / "release.json"
CONFIG = Path(os.environ.get("GATE_EDGE_CONFIG", "/etc/gate-edge/gate-edge.toml"))
PAYLOAD = Path("/usr/lib/gate-edge")
UNIT = "gate-edge.service"
SERVICE_USER = "gate-edge"
# How long a new release may take to reach READY; slow machines (emulation) set it higher.
DEFAULT_BOUND_S = float(os.environ.get("GATE_EDGE_READY_BOUND_S", "90"))


def say(text: str) -> None:
    """One line for the technician (and the journal, under apt or systemd)."""
    print(f"gate-edge-release: {text}", file=sys.stderr, flush=True)


def releases() -> Path:
    """The directory holding one subdirectory per installed release."""
    return PREFIX / "releases"


def link_target(name: str) -> str | None:
    """The release a link (current, previous) points at, or None."""
    try:
        return Path(os.readlink(PREFIX / name)).name
    except OSError:
        return None


def set_link(name: str, version: str | None) -> None:
    """Point a link at releases/VERSION atomically (or remove it)."""
    link = PREFIX / name
    if version is None:
        link.unlink(missing_ok=True)
        return
    staging = PREFIX / f".{name}.new"
    staging.unlink(missing_ok=True)
    staging.symlink_to(Path("releases") / version)
    staging.replace(link)


def write_state(document: dict[str, object]) -> None:
    """Record the release state for the gate's status."""
    STATE.parent.mkdir(parents=True, exist_ok=True)
    staging = STATE.with_name(STATE.name + ".new")
    staging.write_text(json.dumps(document, indent=2) + "\n")
    staging.chmod(0o644)
    staging.replace(STATE)


def read_state() -> dict[str, object]:
    """The recorded release state, or an empty one when it is missing or unreadable."""
    try:
        document = json.loads(STATE.read_text())
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def gate_edge(version: str) -> Path:
    """The gate-edge command inside the given release's virtualenv."""
    return releases() / version / "venv" / "bin" / "gate-edge"


def works(version: str) -> bool:
    """The release's command runs and names its version."""
    try:
        out = subprocess.run(
            [str(gate_edge(version)), "--version"],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == f"gate-edge {version}"


def install(version: str, wheels: Path, requirements: Path, firmware: Path | None) -> int:
    """Build releases/VERSION from wheels only, checked against the lock's hashes."""
    if works(version):
        say(f"release {version} is already installed")
        return 0
    if version in (link_target("current"), link_target("previous")):
        say(f"release {version} is in use but broken: reinstall it under a new version")
        return 1
    releases().mkdir(parents=True, exist_ok=True)
    # Built in place (a venv's scripts name their interpreter by path); `current` only ever
    # points at a release that was checked to run.
    target = releases() / version
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    try:
        # System site packages: picamera2 comes from Raspberry Pi OS's apt, not from PyPI.
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", str(target / "venv")],
            check=True,
        )
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        subprocess.run(
            [
                *(str(target / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"),
                *("--no-index", "--find-links", str(wheels), "--only-binary", ":all:"),
                *("--require-hashes", "--no-deps", "-r", str(requirements)),
            ],
            check=True,
            env=env,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(target, ignore_errors=True)
        say(f"release {version} could not be installed: {exc}")
        return 1
    if firmware is not None and firmware.is_dir():
        shutil.copytree(firmware, target / "firmware")
    shutil.copy2(requirements, target / "requirements.txt")
    if not works(version):
        shutil.rmtree(target, ignore_errors=True)
        say(f"release {version} does not run: removed")
        return 1
    say(f"release {version} installed in {target}")
    return 0


def systemd_running() -> bool:
    """True when the machine runs systemd (not a chroot or a container without it)."""
    return Path("/run/systemd/system").is_dir()


def ready_under_systemd(bound_s: float) -> tuple[bool, str]:
    """Restart the unit; Type=notify makes the restart return once READY=1 came (or failed)."""
    try:
        restart = subprocess.run(
            ["systemctl", "restart", UNIT],
            check=False,
            capture_output=True,
            text=True,
            timeout=bound_s,
        )
    except subprocess.TimeoutExpired:
        return False, f"not READY within {bound_s:.0f} s"
    if restart.returncode != 0:
        return False, f"start failed: {restart.stderr.strip()[:200] or restart.returncode}"
    state = subprocess.run(
        ["systemctl", "is-active", UNIT], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (True, "active") if state == "active" else (False, f"unit {state} after start")


def ready_in_trial(version: str, bound_s: float) -> tuple[bool, str]:
    """Run the service directly and wait for READY=1 on a notification socket of our own."""
    with tempfile.TemporaryDirectory() as tmp:
        address = str(Path(tmp) / "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(address)
        user = _as_service_user()
        if user:  # the trial runs as the service user: the socket and its directory are its own
            for path in (tmp, address):
                os.chown(path, user["user"], user["group"])
        env = {**os.environ, "NOTIFY_SOCKET": address}
        env.pop("WATCHDOG_USEC", None)
        process = subprocess.Popen(
            [str(gate_edge(version)), "run", "--config", str(CONFIG)],
            env=env,
            **user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            return _await_ready(sock, process, bound_s)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            sock.close()


def _as_service_user() -> dict[str, Any]:
    """Run the trial as the service would (its files in the state directory stay its own)."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return {}
    groups = [g.gr_gid for g in grp.getgrall() if SERVICE_USER in g.gr_mem]
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": groups}


def _await_ready(
    sock: socket.socket, process: subprocess.Popen[bytes], bound_s: float
) -> tuple[bool, str]:
    deadline = time.monotonic() + bound_s
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(min(left, 0.5))
        try:
            message = sock.recv(4096).decode(errors="replace")
        except TimeoutError:
            message = ""
        if "READY=1" in message.splitlines():
            return True, "READY"
        if process.poll() is not None:
            tail = (process.stderr.read() if process.stderr else b"").decode(errors="replace")
            last = tail.strip().splitlines()[-1:] or ["no output"]
            return False, f"exited with status {process.returncode} before READY: {last[0][:200]}"
    return False, f"not READY within {bound_s:.0f} s"


def unit_active() -> bool:
    """True when systemd reports the gate-edge unit active."""
    return subprocess.run(["systemctl", "is-active", "--quiet", UNIT], check=False).returncode == 0


def check_ready(version: str, bound_s: float, *, was_running: bool) -> tuple[bool, str] | None:
    """Whether the release became ready; None when it is not to be started: under systemd a
    gate that was not running (not enrolled yet), elsewhere a first install or no configuration."""
    if systemd_running():
        return ready_under_systemd(bound_s) if was_running else None
    if was_running and CONFIG.exists():
        return ready_in_trial(version, bound_s)
    return None


def prune() -> None:
    """Keep the current and the previous release, remove the others."""
    keep = {link_target("current"), link_target("previous")}
    for path in releases().iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def activate(version: str, bound_s: float) -> int:
    """Switch to VERSION; put the previous release back if it does not become ready."""
    if not works(version):
        say(f"release {version} is not installed")
        return 1
    before = link_target("current")
    # Outside systemd a previous release stands for a gate that ran: a trial shows if this one runs.
    was_running = unit_active() if systemd_running() else before not in (None, version)
    if before != version:
        set_link("previous", before)
        set_link("current", version)
    verdict = check_ready(version, bound_s, was_running=was_running)
    now = time.time()
    if verdict is None or verdict[0]:
        how = "not started (nothing to run it with yet)" if verdict is None else "READY"
        write_state({"state": "active", "current": version, "previous": before, "at": now})
        say(f"release {version} active ({how}); previous: {before or 'none'}")
        prune()
        return 0
    reason = verdict[1]
    if before is None or before == version:
        write_state({"state": "failed", "current": version, "at": now, "reason": reason})
        say(f"release {version} did not become ready ({reason}) and there is none to go back to")
        return 1
    set_link("current", before)
    set_link("previous", version)
    write_state(
        {
            "state": "rolled-back",
            "current": before,
            "previous": version,
            "failed": version,
            "reason": reason,
            "at": now,
        }
    )
    say(f"release {version} did not become ready ({reason}): rolled back to {before}")
    if systemd_running():
        subprocess.run(["systemctl", "restart", "--no-block", UNIT], check=False)
    return 2


def rollback() -> int:
    """Switch back to the previous release by hand."""
    before, previous = link_target("current"), link_target("previous")
    if previous is None:
        say("there is no previous release")
        return 1
    set_link("current", previous)
    set_link("previous", before)
    write_state({"state": "active", "current": previous, "previous": before, "at": time.time()})
    say(f"switched back to {previous}")
    if systemd_running():
        subprocess.run(["systemctl", "restart", "--no-block", UNIT], check=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one action."""
    parser = argparse.ArgumentParser(prog="gate-edge-release", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    inst = actions.add_parser("install")
    inst.add_argument("version")
    inst.add_argument("--wheels", type=Path, default=PAYLOAD / "wheels")
    inst.add_argument("--requirements", type=Path, default=PAYLOAD / "requirements.txt")
    inst.add_argument("--firmware", type=Path, default=PAYLOAD / "firmware")
    act = actions.add_parser("activate")
    act.add_argument("version")
    act.add_argument("--bound-s", type=float, default=DEFAULT_BOUND_S)
    actions.add_parser("rollback")
    actions.add_parser("status")
    args = parser.parse_args(argv)
    if args.action == "install":
        return install(args.version, args.wheels, args.requirements, args.firmware)
    if args.action == "activate":
        return activate(args.version, args.bound_s)
    if args.action == "rollback":
        return rollback()
    print(
        json.dumps({**read_state(), "links": {n: link_target(n) for n in ("current", "previous")}})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
