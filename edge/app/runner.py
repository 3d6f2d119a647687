"""`gate-edge run`: validate, open hardware, run the gate until SIGTERM, shut it safely."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from edge.app.configcheck import check_config_file, config_warnings
from edge.app.gate import GateService
from edge.app.hardware import Hardware, open_hardware
from edge.clock import SystemClock
from edge.drivers.relay_pulse import install_release_handlers
from edge.service.logs import setup_logging
from edge.service.memory import trim_heap

log = logging.getLogger(__name__)


def run_service(config_path: str) -> int:
    """Run the gate from a configuration file; returns the process exit code."""
    # The same validation as `config check`: every problem, before any hardware is touched.
    config = check_config_file(config_path)
    setup_logging(config.gate.log_level)
    for warning in config_warnings(config):
        log.warning("configuration: %s", warning)
    clock = SystemClock()
    hardware: Hardware | None = None
    service: GateService | None = None
    code = 1
    try:
        hardware = open_hardware(config, clock)
        service = GateService(config, hardware, clock=clock, config_path=config_path)
        _stop_on_signals(service)
        service.start()
        trim_heap()
        while not service.wait(1.0):
            pass
    finally:
        # The service owns the hardware once built; before that, the hardware is closed here.
        if service is not None:
            code = service.stop()
        elif hardware is not None:
            hardware.close()
    log.info("gate-edge stopped (exit %d)", code)
    return code


def _stop_on_signals(service: GateService) -> None:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting the gate", signum)
        service.request_stop(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    # Chained in front of ours: the relay is released the moment a signal arrives.
    install_release_handlers()
