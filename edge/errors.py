"""The exception hierarchy: every error gate-edge raises derives from GateEdgeError."""

from __future__ import annotations


class GateEdgeError(Exception):
    """Root of every error raised by gate-edge; third-party errors are wrapped in a subclass."""


class ConfigError(GateEdgeError):
    """The configuration is invalid; `problems` lists every error by key path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.problems))


class CodeFormatError(GateEdgeError):
    """A health code or a key could not be built or parsed."""


class TrustListError(GateEdgeError):
    """A trust list or denylist is unsigned, wrongly signed, rolled back, expired or malformed."""


class DriverError(GateEdgeError):
    """A hardware driver failed (bus error, device missing, unexpected reply)."""


class SensorError(DriverError):
    """A sensor returned no trustworthy reading."""


class I2cBusError(SensorError):
    """The I2C bus device itself is missing or not accessible: retrying cannot help."""


class CameraError(DriverError):
    """A frame source failed or stopped delivering frames."""


class SerialDeviceError(DriverError):
    """A serial device (scanner, document reader, relay board) failed or disconnected."""


class RelayError(DriverError):
    """The gate relay could not be driven."""


class StorageError(GateEdgeError):
    """Local durable storage (the event outbox) failed."""


class PublishError(GateEdgeError):
    """Events could not be delivered to the broker."""


class CommandError(GateEdgeError):
    """A control-plane command was unauthenticated, stale, replayed or malformed."""


class PlatformError(GateEdgeError):
    """The verification platform gave no trustworthy answer (refused, unreachable, spoofed)."""


class EnrolmentError(GateEdgeError):
    """First-boot enrolment failed: bad boot file, central refused or answered nonsense."""
