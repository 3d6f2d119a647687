"""The per-gate enrolment file a technician puts on the SD card's boot partition."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from edge.errors import EnrolmentError, GateEdgeError
from edge.ids import id_problem
from edge.wire.broker_url import parse_broker_url
from edge.wire.enrol import EnrolToken

DEFAULT_PATH = Path("/boot/firmware/gate-edge-enrol.toml")
MAX_BYTES = 16_384
_KEYS = frozenset({"site", "gate", "central", "broker", "token", "central_ca"})


@dataclass(frozen=True)
class BootFile:
    """Who the gate is, where central and the broker are, and its one-time token."""

    path: Path
    site: str
    gate: str
    central: str
    broker: str | None
    token: EnrolToken
    central_ca: Path | None


def _text(document: dict[str, object], key: str, problems: list[str]) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{key}: required, a string")
        return ""
    return value.strip()


def read_boot_file(path: Path) -> BootFile:
    """Parse and check the file; every problem at once in one EnrolmentError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EnrolmentError(f"{path}: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise EnrolmentError(f"{path}: larger than {MAX_BYTES} bytes")
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EnrolmentError(f"{path}: not a TOML file: {exc}") from None
    problems = [f"{key}: unknown key" for key in sorted(set(document) - _KEYS)]
    site, gate = _text(document, "site", problems), _text(document, "gate", problems)
    for key, value in (("site", site), ("gate", gate)):
        problem = id_problem(value) if value else None
        if problem:
            problems.append(f"{key}: {problem}")
    central = _text(document, "central", problems)
    if central and (
        urlsplit(central).scheme not in ("http", "https") or not urlsplit(central).hostname
    ):
        problems.append("central: expected https://host[:port]")
    broker = document.get("broker")
    if broker is not None:
        try:
            parse_broker_url(str(broker))
        except GateEdgeError as exc:
            problems.append(f"broker: {exc}")
    token: EnrolToken | None = None
    try:
        token = EnrolToken.parse(_text(document, "token", problems))
    except EnrolmentError as exc:
        problems.append(str(exc))
    ca = document.get("central_ca")
    if ca is not None and not isinstance(ca, str):
        problems.append("central_ca: a file name beside this file")
    if problems or token is None:
        raise EnrolmentError(f"{path}: " + "; ".join(dict.fromkeys(problems)))
    return BootFile(
        path=path,
        site=site,
        gate=gate,
        central=central.rstrip("/"),
        broker=None if broker is None else str(broker),
        token=token,
        central_ca=None if ca is None else path.parent / str(ca),
    )


def retire_boot_file(boot: BootFile) -> Path | None:
    """Replace the file by NAME.done without the token; None when the partition is read-only."""
    done = boot.path.with_name(boot.path.name + ".done")
    kept = [
        f'{key} = "{value}"'
        for key, value in (("site", boot.site), ("gate", boot.gate), ("central", boot.central))
    ]
    try:
        done.write_text("# enrolled; the token was removed\n" + "\n".join(kept) + "\n")
        boot.path.unlink()
    except OSError:
        return None
    return done
