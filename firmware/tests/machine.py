"""A fake `machine` module for running the firmware off the board: pins, watchdog and reset."""

PWRON_RESET = 1
WDT_RESET = 3

PINS = {}
WATCHDOGS = []
RESETS = []
CAUSE = [PWRON_RESET]


class ResetCalled(Exception):
    """machine.reset() never returns on the board; here it raises this."""


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, pin, mode=-1, pull=-1, *, value=None):
        self.pin = pin
        self.mode = mode
        self.pull = pull
        self.level = 1 if (mode == Pin.IN and pull == Pin.PULL_UP) else 0
        if value is not None:
            self.level = value
        self.history = [self.level]
        PINS[pin] = self

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = 1 if level else 0
        self.history.append(self.level)
        return None


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0
        WATCHDOGS.append(self)

    def feed(self):
        self.feeds += 1


def reset():
    RESETS.append(True)
    raise ResetCalled()


def reset_cause():
    return CAUSE[0]


def clear():
    """Forget every pin, watchdog and reset (between tests)."""
    PINS.clear()
    del WATCHDOGS[:]
    del RESETS[:]
    CAUSE[0] = PWRON_RESET
