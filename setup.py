"""Build hook: the gate I/O board's firmware (firmware/*.py) ships inside the package as
edge/firmware/, so `gate-edge gateio flash` finds it from any installation."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FIRMWARE_SOURCE = Path(__file__).parent / "firmware"


class BuildWithFirmware(build_py):
    """build_py that also copies the board firmware into the built package."""

    def run(self) -> None:
        """Build as usual, then copy the board firmware in (not for an editable install)."""
        super().run()
        if self.editable_mode:  # an editable install reads firmware/ of the source tree
            return
        target = Path(self.build_lib) / "edge" / "firmware"
        self.mkpath(str(target))
        for source in sorted(FIRMWARE_SOURCE.glob("*.py")):
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildWithFirmware})
