"""A gate process that opens for one code and then hangs in the passage wait until killed.

Run as `python -m tests.crash_after_pulse PASSBACK_DB`; prints "pulsed" once the relay fired.
"""

from __future__ import annotations

import sys
import threading

from edge.clock import SystemClock
from edge.core.controller import GateController
from edge.core.settings import PolicySettings
from edge.core.steps import GateDevices
from edge.events import GateEvent
from edge.storage.passback_db import DurablePassbackLedger
from edge.thermo.reading import TemperatureReading
from tests.test_passback_db import passed_code


class PrintingRelay:
    def pulse(self, duration_ms: int | None = None) -> None:
        print("pulsed", flush=True)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class NormalThermometer:
    def measure(self, timeout_s: float) -> TemperatureReading:
        return TemperatureReading("normal", 35.0, 22.0, 36.5, "ambient", 5)

    def measure_again(self, timeout_s: float) -> TemperatureReading:
        return self.measure(timeout_s)


class HangingTurnstile:
    def is_active(self) -> bool:
        return False

    def wait_for_active(self, timeout_s: float) -> bool:
        threading.Event().wait()  # the person is still in the turnstile when the power goes
        return True

    def close(self) -> None:
        pass


class Discard:
    def emit(self, event: GateEvent) -> None:
        pass


def main(db: str) -> None:
    clock = SystemClock()
    controller = GateController(
        policy=PolicySettings(passage_timeout_s=60.0),
        devices=GateDevices(
            relay=PrintingRelay(), thermometer=NormalThermometer(), passage_input=HangingTurnstile()
        ),
        events=Discard(),
        clock=clock,
        ledger=DurablePassbackLedger(db, 300.0, clock),
    )
    controller.handle_scan("camera", passed_code(), 1.0, clock.monotonic())


if __name__ == "__main__":
    main(sys.argv[1])
