"""The documentation stays true: README's configuration reference and commands match the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from central.cli import build_parser as central_parser
from edge.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _reference_table() -> str:
    spec = importlib.util.spec_from_file_location(
        "update_readme_config", ROOT / "scripts" / "update-readme-config.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.reference_table()
    assert isinstance(table, str)
    return table


def test_readme_configuration_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert _reference_table() in readme, "run: .venv/bin/python scripts/update-readme-config.py"


def test_every_command_is_documented_in_readme_and_technician_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    guide = (ROOT / "docs" / "technician-guide.md").read_text()
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert subparsers.choices is not None
    for name in subparsers.choices:
        assert f"gate-edge {name}" in readme, name
        if name not in ("demo", "command"):
            assert f"gate-edge {name}" in guide or f"ge {name}" in guide, name


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make demo") < readme.index("## Architecture")
    assert readme.index("make test") < readme.index("## Architecture")


def test_every_central_command_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    subparsers = next(a for a in central_parser()._actions if a.dest == "command")
    assert subparsers.choices is not None
    for name in subparsers.choices:
        assert f"gate-central {name}" in readme, name
