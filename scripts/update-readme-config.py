"""Regenerate the configuration reference inside README.md from the config schema."""

from __future__ import annotations

import sys
from pathlib import Path

from edge.app.config import Config
from edge.configschema import describe

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def reference_table() -> str:
    """The Markdown table of every setting."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, type_name, default, doc in describe(Config):
        rows.append(f"| `{key}` | {type_name} | `{default}` | {doc} |")
    return "\n".join(rows)


def main() -> int:
    """Regenerate the README's configuration reference table in place."""
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{reference_table()}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
