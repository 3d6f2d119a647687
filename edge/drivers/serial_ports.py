"""Why a serial port cannot be used, in the technician's terms, with the ports that are there."""

from __future__ import annotations

import errno
from pathlib import Path

import serial

from edge.errors import DriverError

BY_ID_DIR = Path("/dev/serial/by-id")


def candidate_ports() -> list[str]:
    """The stable names of the serial devices plugged in now."""
    try:
        return sorted(str(path) for path in BY_ID_DIR.iterdir())
    except OSError:
        return []


def candidates_text() -> str:
    """The plugged-in serial devices as one clause for an error message."""
    found = candidate_ports()
    if not found:
        return (
            f"no serial devices under {BY_ID_DIR}/ (the board is not plugged in, or its USB "
            "cable carries power only)"
        )
    return f"serial devices present: {', '.join(found)}"


def port_trouble(port: str, exc: BaseException) -> str:
    """The cause of a failed open of `port` and what to do about it."""
    text = str(exc)
    code = exc.errno if isinstance(exc, OSError) else None
    if "://" not in port and not Path(port).exists():
        return f"{port} does not exist; {candidates_text()}"
    if "exclusively lock" in text or code == errno.EBUSY or "Errno 16" in text:
        return (
            f"{port} is in use by another program (the running service holds it: "
            "sudo systemctl stop gate-edge)"
        )
    if code == errno.EACCES or "Permission denied" in text or "Errno 13" in text:
        return (
            f"no permission to open {port}: run as the service user (sudo -u gate-edge ...) or "
            "add this user to the dialout group"
        )
    return f"cannot open {port}: {text}"


def check_port(port: str, baudrate: int = 115200) -> None:
    """Open and close `port` once; OSError-like failures become a DriverError with the cause."""
    try:
        handle = serial.serial_for_url(port, baudrate=baudrate, timeout=0, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DriverError(port_trouble(port, exc)) from exc
    handle.close()
