"""gate-edge: the software inside an unattended health-code entry gate."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gate-edge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
