"""Regenerate the fault and deny-reason tables of the technician guide from the catalogues."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from edge.faults import Fault, FaultScope
from edge.reasons import Reason

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "technician-guide.md"

SCOPE_WORDS: dict[FaultScope, str] = {
    "nothing": "nothing (reported only)",
    "document": "only presentations that need the document (`policy.person_code_match`)",
    "camera": "codes from the camera only (serial scanner and manual passes still work)",
    "serial": "codes from the serial scanner only",
    "button": "passes from the local button only",
    "everything": "everything",
}


def _grouped(
    entries: Iterable[tuple[str, tuple[str, ...]]],
) -> list[tuple[list[str], tuple[str, ...]]]:
    """Consecutive entries with the same columns share one row."""
    rows: list[tuple[list[str], tuple[str, ...]]] = []
    for name, columns in entries:
        if rows and rows[-1][1] == columns:
            rows[-1][0].append(name)
        else:
            rows.append(([name], columns))
    return rows


def _table(
    header: Sequence[str],
    entries: Iterable[tuple[str, tuple[str, ...]]],
    first_rows: Sequence[str] = (),
) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *first_rows]
    for names, columns in _grouped(entries):
        named = ", ".join(f"`{name}`" for name in names)
        lines.append("| " + " | ".join((named, *columns)) + " |")
    return "\n".join(lines)


def _faults(shown: str, faults: Sequence[Fault] = tuple(Fault)) -> list[Fault]:
    return [kind for kind in faults if kind.shown == shown]


def latched_table(faults: Sequence[Fault] = tuple(Fault)) -> str:
    """Latched faults: what each blocks and its way back."""
    return _table(
        ("fault", "meaning", "blocks", "way back"),
        ((k.value, (k.meaning, SCOPE_WORDS[k.blocks], k.how)) for k in _faults("latched", faults)),
    )


def status_table() -> str:
    """Faults shown on the status topic only."""
    return _table(
        ("fault", "meaning", "what to do"),
        ((k.value, (k.meaning, k.how)) for k in _faults("status")),
    )


def presentation_faults() -> str:
    """Faults announced for one presentation only."""
    named = ", ".join(f"`{k.value}` ({k.meaning})" for k in _faults("presentation"))
    text = f"Fault events only (per presentation, not latched): {named}."
    return textwrap.fill(text, 100, break_long_words=False, break_on_hyphens=False)


def deny_table() -> str:
    """Every deny reason with its cause and what to do."""
    return _table(
        ("reason", "cause", "what to check / tell the visitor"),
        ((r.value, (r.cause, r.advice)) for r in Reason),
        first_rows=("| any `*_fault` above | the gate is faulty | section 6.1 |",),
    )


SECTIONS: dict[str, Callable[[], str]] = {
    "latched-faults": latched_table,
    "status-faults": status_table,
    "presentation-faults": presentation_faults,
    "deny-reasons": deny_table,
}


def markers(section: str) -> tuple[str, str]:
    """The comments around a generated section."""
    return f"<!-- {section}:start -->", f"<!-- {section}:end -->"


def generated(section: str) -> str:
    """A section as it stands in the guide, markers included."""
    start, end = markers(section)
    return f"{start}\n{SECTIONS[section]()}\n{end}"


def main() -> int:
    """Regenerate every generated section of the technician guide in place."""
    text = GUIDE.read_text()
    for section in SECTIONS:
        start, end = markers(section)
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{generated(section)}{tail}"
    GUIDE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
