"""The version comes from the installed package's metadata, shown by both command lines."""

from __future__ import annotations

from importlib.metadata import version

import pytest

import edge
from central.cli import main as central_main
from edge.cli import main as edge_main


def test_the_package_version_is_the_installed_distribution_s() -> None:
    assert edge.__version__ == version("gate-edge")


@pytest.mark.parametrize(
    ("main", "prog"), [(edge_main, "gate-edge"), (central_main, "gate-central")]
)
def test_both_commands_print_it(
    main: object, prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert callable(main)
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"{prog} {edge.__version__}"
