"""Set string keys in a TOML configuration text, keeping everything else (comments) as it is."""

from __future__ import annotations

import json
import re
import tomllib

from edge.errors import EnrolmentError

_SECTION = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]")


def _line(key: str, value: str) -> str:
    return f"{key} = {json.dumps(value, ensure_ascii=False)}"


def set_strings(text: str, values: dict[tuple[str, str], str]) -> str:
    """`text` with each (section, key) set to its string value; added where it is missing."""
    lines = text.splitlines()
    pending = dict(values)
    section: str | None = None
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:
        header = _SECTION.match(line)
        if header:
            _flush(out, section, pending)
            # keys of an array of tables ([[name]]) are never ours to set
            section = header.group(2) if header.group(1) == "[" else None
            seen.add(header.group(2))
            out.append(line)
            continue
        assignment = "=" in line and not line.lstrip().startswith("#")
        key = line.split("=", 1)[0].strip() if assignment else None
        if section is not None and key is not None and (section, key) in pending:
            out.append(_line(key, pending.pop((section, key))))
        else:
            out.append(line)
    _flush(out, section, pending)
    for (name, key), value in list(pending.items()):
        if name not in seen:
            out += ["", f"[{name}]"]
            seen.add(name)
        out.append(_line(key, value))
        pending.pop((name, key))
    result = "\n".join(out) + "\n"
    _check(result, values)
    return result


def _flush(out: list[str], section: str | None, pending: dict[tuple[str, str], str]) -> None:
    """Append the keys still missing from the section that just ended."""
    if section is None:
        return
    missing = [(key, value) for (name, key), value in pending.items() if name == section]
    if not missing:
        return
    while out and not out[-1].strip():
        out.pop()
    for key, value in missing:
        out.append(_line(key, value))
        pending.pop((section, key))
    out.append("")


def _check(text: str, values: dict[tuple[str, str], str]) -> None:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EnrolmentError(f"the configuration would not be TOML: {exc}") from None
    for (section, key), value in values.items():
        table = document.get(section)
        if not isinstance(table, dict) or table.get(key) != value:
            raise EnrolmentError(f"could not set {section}.{key} in the configuration")
