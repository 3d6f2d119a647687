"""gate-edge: the software inside an unattended health-code entry gate."""

__version__ = "0.1.0"
