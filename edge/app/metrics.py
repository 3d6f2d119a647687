"""The gate's telemetry figures as types, gathered from its parts at one moment."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from edge.clock import Clock
from edge.core.controller import GateController
from edge.credentials.trust.health import TrustHealth
from edge.scan.loop import ScanLoop
from edge.service.clockguard import judge_clock, kernel_sync_state
from edge.thermo.reading import ThermometerDevice

if TYPE_CHECKING:  # the platform client (httpcore) is loaded only where a platform is configured
    from edge.platform.client import PlatformClient


@dataclass(frozen=True)
class ScanFigures:
    """The scanner's frame rate and decode times."""

    fps: float
    decode_ms_p50: float | None
    decode_ms_p95: float | None


@dataclass(frozen=True)
class DecisionFigures:
    """The controller's state, its latched faults and its counters."""

    state: str
    faults: str
    presentations: int
    passes: int
    denies: int
    dropped_presentations: int


@dataclass(frozen=True)
class ClockFigures:
    """The kernel's view of the clock."""

    clock_offset_s: float | None
    clock_synchronized: bool | None
    clock_max_error_ms: float | None


@dataclass(frozen=True)
class ThermometerFigures:
    """The thermometer's sampler."""

    thermometer: str
    thermometer_object_c: float | None
    thermometer_ambient_c: float | None
    thermometer_faults: int


@dataclass(frozen=True)
class PlatformFigures:
    """The platform client's breakers and answer counts."""

    platform_breakers: str
    platform_online: int
    platform_cache: int
    platform_failed: int


@dataclass(frozen=True)
class GateMetrics:
    """Everything the gate reports in telemetry besides the outbox (added by the publisher)."""

    scan: ScanFigures
    decisions: DecisionFigures
    clock: ClockFigures
    thermometer: ThermometerFigures
    trust: dict[str, Any]
    platform: PlatformFigures | None

    def document(self) -> dict[str, Any]:
        """The flat fields of the telemetry document (docs/mqtt-api.yaml)."""
        fields: dict[str, Any] = {
            **asdict(self.scan),
            **asdict(self.decisions),
            **asdict(self.clock),
            **self.trust,
        }
        if self.platform is not None:
            fields.update(asdict(self.platform))
        fields.update(asdict(self.thermometer))
        return fields


def gather_metrics(
    scan: ScanLoop,
    controller: GateController,
    thermometer: ThermometerDevice,
    *,
    trust: TrustHealth,
    platform: PlatformClient | None,
    clock: Clock,
    clock_skew_s: float,
) -> GateMetrics:
    """The figures of the gate's parts now."""
    figures = scan.stats()
    status = controller.status()
    verdict = judge_clock(clock.now(), None, clock_skew_s, kernel_sync_state())
    stats = thermometer.stats()
    return GateMetrics(
        scan=ScanFigures(
            fps=figures.get("fps", 0.0),
            decode_ms_p50=figures.get("decode_ms_p50"),
            decode_ms_p95=figures.get("decode_ms_p95"),
        ),
        decisions=DecisionFigures(
            state=status.state.value,
            faults=",".join(sorted(status.faults)),
            presentations=status.presentations,
            passes=status.passes,
            denies=status.denies,
            dropped_presentations=status.dropped,
        ),
        clock=ClockFigures(
            clock_offset_s=verdict.offset_s,
            clock_synchronized=verdict.synchronized,
            clock_max_error_ms=verdict.max_error_ms,
        ),
        thermometer=ThermometerFigures(
            thermometer=str(stats.state),
            thermometer_object_c=stats.last_object_c,
            thermometer_ambient_c=stats.last_ambient_c,
            thermometer_faults=stats.faults,
        ),
        trust=trust.telemetry(),
        platform=None if platform is None else _platform_figures(platform),
    )


def _platform_figures(client: PlatformClient) -> PlatformFigures:
    return PlatformFigures(
        platform_breakers=",".join(f"{u}={s}" for u, s in client.breakers().items()),
        platform_online=client.counts["online"],
        platform_cache=client.counts["cache"],
        platform_failed=client.counts["failed"],
    )
