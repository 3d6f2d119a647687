"""Site and gate ids: one alphabet, and the names built from them (topics, client id, CN)."""

from __future__ import annotations

import re
import unicodedata

ID_RULE = "1-64 ASCII letters, digits, '-' or '_', starting with a letter or digit"
DEVICE_ID_MAX = 64  # a certificate CN holds at most 64 characters (RFC 5280 ub-common-name)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# '.' is outside the id alphabet, so "<site>.<gate>" splits back one way only: site "a-b" with
# gate "c" and site "a" with gate "b-c" can never share a client id or a certificate CN.
SEPARATOR = "."
CLIENT_ID_PREFIX = "gate-edge-"


def id_problem(value: str) -> str | None:
    """Why `value` is not a valid site or gate id, or None when it is."""
    if _ID.fullmatch(value):
        return None
    for char in value:
        if not _ID.fullmatch(char) and char not in "-_":
            return f"character {describe_char(char)} is not allowed; ids are {ID_RULE}"
    return f"ids are {ID_RULE}"


def device_id(site: str, gate: str) -> str:
    """The gate's device id "<site>.<gate>": its certificate CN and broker ACL user name."""
    return f"{site}{SEPARATOR}{gate}"


def client_id(site: str, gate: str) -> str:
    """The gate's MQTT client id, "gate-edge-<site>.<gate>"."""
    return CLIENT_ID_PREFIX + device_id(site, gate)


def device_id_problem(value: str) -> str | None:
    """Why `value` is not a device id "<site>.<gate>" of two valid ids, or None when it is."""
    if len(value) > DEVICE_ID_MAX:
        return f"device id longer than {DEVICE_ID_MAX} characters (the certificate CN limit)"
    parts = value.split(SEPARATOR)
    if len(parts) != 2:
        return "a device id is <site>.<gate> with exactly one '.'"
    for name, part in zip(("site", "gate"), parts, strict=True):
        problem = id_problem(part)
        if problem is not None:
            return f"{name} id: {problem}"
    return None


def visible_text_problem(value: str, *, spaces: bool = False, limit: int = 128) -> str | None:
    """Why free text that names something (a client id, an operator) is refused: control,
    format, invisible or whitespace characters (plain inner spaces when `spaces`), or length;
    None when fine."""
    if len(value) > limit:
        return f"longer than {limit} characters"
    if spaces and value != value.strip(" "):
        return "leading or trailing spaces are not allowed"
    for char in value:
        if spaces and char == " ":
            continue
        if char.isspace() or unicodedata.category(char) in _INVISIBLE:
            return f"character {describe_char(char)} is not allowed (visible characters only)"
    return None


_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def describe_char(char: str) -> str:
    """A character as a reader can see it: printable ones quoted, all with their code point."""
    code = f"U+{ord(char):04X}"
    if char.isprintable() and not char.isspace():
        return f"{char!r} ({code})"
    return code
