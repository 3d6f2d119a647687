"""Runs the doctor's checks in the order a technician would, then reports the result as an event."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from edge.app.config import Config, load_config
from edge.app.configcheck import check_config_file, config_warnings
from edge.clock import Clock, SystemClock
from edge.doctor import checks, devices
from edge.doctor.platform import check_platforms
from edge.doctor.report import CheckResult, DoctorReport, failed, passed, skipped, warned
from edge.errors import ConfigError, GateEdgeError
from edge.events import GateEvent
from edge.mqtt.diagnose import probe_broker, tool_client_id
from edge.mqtt.publisher import OutboxPublisher
from edge.storage.outbox import Outbox

log = logging.getLogger(__name__)

Progress = Callable[[CheckResult], None]
EVENT_WAIT_S = 10.0
OUTBOX_FILE = "outbox.db"
_SEE_GUIDE = "see the technician guide (section 2) for this part"
_WARNINGS_FIX = (
    "a gate in service uses its real parts: set the backends named to their drivers "
    "(they are listed by: gate-edge config reference); a trust list arrives once central reaches "
    "the gate (trust.trust_list below); plug in the serial devices named"
)


def run_doctor(
    config_path: str, progress: Progress | None = None, clock: Clock | None = None
) -> DoctorReport:
    """Every check in order; `progress` sees each result as soon as it is known."""
    clock = clock or SystemClock()
    report = DoctorReport(config_path, [])

    def add(*results: CheckResult) -> None:
        for result in results:
            report.results.append(result)
            if progress is not None:
                progress(result)

    try:
        config = check_config_file(config_path)  # the one validation of `run` and `config check`
    except ConfigError as exc:
        add(
            failed(
                "config",
                "; ".join(exc.problems),
                f"correct the keys listed, then: gate-edge config check {config_path}",
            )
        )
        try:  # content that parses still lets the other checks name their causes
            config = load_config(config_path)
        except ConfigError:
            return report
    else:
        detail = f"{config_path} valid (site {config.gate.site}, gate {config.gate.gate})"
        add(passed("config", detail))
    warnings = config_warnings(config)
    if warnings:
        add(warned("config.warnings", "; ".join(warnings), _WARNINGS_FIX))
    add(*checks.check_files(config))
    add(_guarded("device.camera", lambda: devices.check_camera(config)))
    add(_guarded("device.thermometer", lambda: devices.check_thermometer(config, clock)))
    add(_guarded("device.relay", lambda: devices.check_relay(config, config_path)))
    add(_guarded("device.io", lambda: devices.check_inputs(config)))
    try:
        add(*devices.check_serial_parts(config, clock))
    except Exception as exc:
        log.exception("serial device check failed")
        add(failed("device.serial", f"{type(exc).__name__}: {exc}", "see the journal"))
    broker = _check_broker(config)
    add(broker)
    add(*check_platforms(config, clock))
    now = clock.now()
    add(*checks.check_trust(config, now))
    add(checks.check_clock(config, now))
    add(checks.check_disk(config))
    add(checks.check_certificate(config, now, config_path))
    if broker.status == "pass":
        _publish_result(config, report)
    return report


def _guarded(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """A driver error the check did not expect is still a named failure, never a crash."""
    try:
        return check()
    except GateEdgeError as exc:
        return failed(name, str(exc), "see the technician guide for this part")
    except Exception as exc:
        log.exception("%s check failed", name)
        return failed(
            name, f"{type(exc).__name__}: {exc}", "see the technician guide for this part"
        )


def _check_broker(config: Config) -> CheckResult:
    name = "broker"
    if not config.mqtt.enabled:
        return skipped(name, "mqtt.enabled = false: events stay in the outbox")
    client_id = tool_client_id(config.mqtt, config.gate.site, config.gate.gate, "doctor")
    diagnosis = probe_broker(config.mqtt, client_id)
    if not diagnosis.ok:
        return failed(
            name, f"{config.mqtt.broker}: {diagnosis.cause}: {diagnosis.detail}", diagnosis.fix
        )
    return passed(name, f"{config.mqtt.broker}: {diagnosis.detail}")


def _publish_result(config: Config, report: DoctorReport) -> None:
    """Store the result as a `doctor` event and deliver it with a tool connection; a refusal by
    the broker (ACL) turns the broker check into a failure."""
    state_dir = Path(config.storage.state_dir)
    if not state_dir.is_dir():
        return
    event = GateEvent(
        kind="doctor",
        reasons=tuple(report.failures),
        detail=report.summary(),
    )
    outbox = Outbox(
        state_dir / OUTBOX_FILE,
        site=config.gate.site,
        gate=config.gate.gate,
        max_events=config.storage.outbox_max_events,
        max_age_s=config.storage.outbox_max_age_days * 86400.0,
        clock=SystemClock(),
    )
    try:
        outbox.emit(event)
        publisher = OutboxPublisher(
            config.mqtt,
            site=config.gate.site,
            gate=config.gate.gate,
            outbox=outbox,
            clock=SystemClock(),
        )
        publisher.start()
        try:
            delivered = publisher.wait_drained(EVENT_WAIT_S)
        finally:
            publisher.stop()
        if publisher.refused:
            _replace(
                report,
                failed(
                    "broker",
                    f"not_authorised: the broker refused events on {publisher.topics.events}",
                    "the broker's ACL must let this gate's certificate name write its topics",
                ),
            )
        report.event_published = delivered and not publisher.refused
    except GateEdgeError as exc:
        log.warning("doctor result not published: %s", exc)
    finally:
        with contextlib.suppress(GateEdgeError):
            outbox.close()


def _replace(report: DoctorReport, result: CheckResult) -> None:
    report.results = [result if r.name == result.name else r for r in report.results]
