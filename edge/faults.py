"""The fault catalogue: every published fault name, what it blocks and how it is lifted."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

FaultScope = Literal["nothing", "document", "camera", "serial", "button", "everything"]
"""What a latched fault keeps shut: nothing (reported only), presentations that need the
document reader, codes from the camera, codes from the serial scanner, manual passes from the
local button, or every presentation."""

WayBack = Literal["automatic", "clear-fault", "restart"]


FaultShown = Literal["latched", "status", "presentation"]
"""Where a fault shows: latched on the controller (and denies what it blocks), on the status
topic only (the gate keeps deciding), or announced for one presentation only."""

_UPDATE_REFUSED = (
    "an update from central was refused (bad signature, not newer, expired); the last good list "
    "stays in use",
    "ask central to publish a correct, newer list",
)


class Fault(StrEnum):
    """One entry of the fault catalogue: its published name, where it shows, what it blocks, how
    it is lifted, and the technician guide's words for it (the guide's tables are generated from
    these). Every name is snake_case: latched faults are named `<part>_fault`, the service's
    status-only faults by the part that shows them (`mqtt_outbox`, `worker_<name>`)."""

    shown: FaultShown
    blocks: FaultScope
    way_back: WayBack
    meaning: str
    how: str

    def __new__(  # noqa: PLR0917 - catalogue entries are written as tuples
        cls,
        value: str,
        shown: FaultShown,
        blocks: FaultScope,
        way_back: WayBack,
        meaning: str,
        how: str,
    ) -> Fault:
        """A catalogue member from its tuple: value, display, what it blocks, way back, texts."""
        member = str.__new__(cls, value)
        member._value_ = value
        member.shown, member.blocks, member.way_back = shown, blocks, way_back
        member.meaning, member.how = meaning, how
        return member

    INDICATOR_FAULT = (
        "indicator_fault",
        "latched",
        "nothing",
        "automatic",
        "switching a lamp or the buzzer failed",
        (
            "automatic: the lamps and buzzer are switched off again every 30 s between "
            "presentations; cleared when that works. Check the lamp/buzzer GPIO lines"
        ),
    )
    AUDIO_FAULT = (
        "audio_fault",
        "latched",
        "nothing",
        "automatic",
        "the voice prompts cannot be played (no sound device, or the player failed)",
        (
            "automatic: cleared when a prompt plays again. `aplay -l` lists the sound device; "
            "`voice.player` names the command"
        ),
    )
    SCREEN_FAULT = (
        "screen_fault",
        "latched",
        "nothing",
        "restart",
        "the visitor screen cannot serve its page (`screen.listen` in use or not on this machine)",
        "free the address or change `screen.listen`, then restart the service",
    )
    DENYLIST_FAULT = (
        "denylist_fault",
        "latched",
        "nothing",
        "automatic",
        "the denylist is missing or cannot be verified; codes are checked without revocation",
        "automatic: cleared once a good denylist is installed",
    )
    DOCUMENT_READER_FAULT = (
        "document_reader_fault",
        "latched",
        "document",
        "clear-fault",
        (
            "the document reader could not be opened at start (also a per-presentation reason "
            "when a read fails)"
        ),
        (
            "port, cable, dialout group; then `clear-fault` (the service restarts and opens it "
            "again) or restart"
        ),
    )
    CAMERA_FAULT = (
        "camera_fault",
        "latched",
        "camera",
        "automatic",
        "the camera failed or could not be opened; also a scan loop error",
        (
            "automatic: an unplugged or missing USB camera is retried every 5 s, cleared when "
            "frames arrive. Check cable, `/dev/video0`, CSI ribbon; `ge scan --source ...`"
        ),
    )
    SERIAL_SCANNER_FAULT = (
        "serial_scanner_fault",
        "latched",
        "serial",
        "clear-fault",
        "the serial scanner failed or could not be opened at start",
        (
            "automatic when it answers again; if it could not be opened at start: port under "
            "`/dev/serial/by-id/`, dialout group, then `clear-fault` (restarts the service)"
        ),
    )
    MANUAL_BUTTON_FAULT = (
        "manual_button_fault",
        "latched",
        "button",
        "automatic",
        "the manual button input could not be read",
        "automatic: cleared as soon as the input reads again; check wiring and line",
    )
    RELAY_FAULT = (
        "relay_fault",
        "latched",
        "everything",
        "clear-fault",
        "a relay pulse failed (GPIO error, LCUS board unplugged)",
        (
            "`clear-fault relay_fault` from central after checking wiring and board power with "
            "`ge relay pulse` (not re-probed automatically: a test pulse would open the "
            "turnstile); or restart"
        ),
    )
    GATEIO_FAULT = (
        "gateio_fault",
        "latched",
        "everything",
        "automatic",
        (
            "the gate I/O board answered no heartbeat for 500 ms (unplugged, USB cable, board "
            "restarting); the board itself has dropped the relay"
        ),
        (
            "automatic: clears when the board answers again, and so do the `relay_fault` and "
            "`indicator_fault` the outage caused. USB cable and port; `ge gateio status` with the"
            " service stopped"
        ),
    )
    STORAGE_FAULT = (
        "storage_fault",
        "latched",
        "everything",
        "automatic",
        (
            "an event could not be stored on disk; a pass is turned into a deny (detail `anti-"
            "passback: ...`: a pass could not be saved in `passback.db`, so the gate stayed shut "
            "for that person)"
        ),
        (
            "automatic: cleared at the next event stored. Free space and permissions of "
            "`/var/lib/gate-edge`, read-only file system"
        ),
    )
    CLOCK_FAULT = (
        "clock_fault",
        "latched",
        "everything",
        "automatic",
        (
            "the wall clock is before 2026 (never set), or it is not synchronised and reads "
            "behind the clock mark in the state directory"
        ),
        (
            "automatic: re-checked every minute, clears once network time is back; see 6.2. "
            "`timedatectl`: NTP synchronised, RTC"
        ),
    )
    TRUST_FAULT = (
        "trust_fault",
        "latched",
        "everything",
        "automatic",
        (
            "no usable trust list (missing, unreadable, not verifiable, expired) or an expired "
            "denylist; the detail names the file and the cause"
        ),
        (
            "automatic: cleared as soon as a good list is installed (retained update, `refresh-"
            "trust`, copied file and restart)"
        ),
    )
    PUBLISH_REFUSED = (
        "publish_refused",
        "status",
        "nothing",
        "restart",
        "the broker refused events (e.g. not authorised); they stay in the outbox",
        "broker ACL for the gate's CN; restart the service after the fix",
    )
    RELEASE = (
        "release",
        "status",
        "nothing",
        "automatic",
        "an update did not reach READY in time and the previous release was put back",
        (
            "`gate-edge-release status` and the journal name the failed release and why; the next "
            "release that becomes ready clears it"
        ),
    )
    TRUST_LIST = ("trust_list", "status", "nothing", "automatic", *_UPDATE_REFUSED)
    DENYLIST = ("denylist", "status", "nothing", "automatic", *_UPDATE_REFUSED)
    COMMAND_KEY = (
        "command_key",
        "status",
        "nothing",
        "restart",
        "`mqtt.command_public_key` cannot be loaded; central commands are refused",
        "install the key, restart",
    )
    TRUST_FILES = (
        "trust_files",
        "status",
        "nothing",
        "automatic",
        (
            "a trust list or denylist file in the state directory was refused at start or at "
            "`refresh-trust` (bad signature, rollback, unreadable); the last good list stays"
        ),
        "`ge doctor` checks the files; copy a good one in and send `refresh-trust`",
    )
    CONFIG = (
        "config",
        "status",
        "nothing",
        "automatic",
        "a `reload-config` found the new file invalid; the gate runs on with the old one",
        "`ge config check` the file, fix, reload again",
    )
    MQTT_CONTROL = (
        "mqtt_control",
        "status",
        "nothing",
        "automatic",
        (
            "handling a message from the broker failed unexpectedly (the detail names the topic "
            "and the error); other commands and trust updates are still handled"
        ),
        "read the journal (`control message on ... failed`); clears with the next message handled",
    )
    MQTT_OUTBOX = (
        "mqtt_outbox",
        "status",
        "nothing",
        "automatic",
        "delivering the outbox failed unexpectedly; it is retried every second, events stay stored",
        "read the journal; clears with the next delivery round that succeeds",
    )
    MQTT_NETWORK = (
        "mqtt_network",
        "status",
        "nothing",
        "restart",
        "a broker callback failed unexpectedly; the connection keeps serving",
        "read the journal (`MQTT ... failed`)",
    )
    MQTT_TELEMETRY = (
        "mqtt_telemetry",
        "status",
        "nothing",
        "automatic",
        "a telemetry sample failed unexpectedly; telemetry goes on and events are not affected",
        "read the journal for the traceback; clears with the next sample sent",
    )
    MANUAL_BUTTON = (
        "manual_button",
        "status",
        "nothing",
        "restart",
        "the manual button's watch met an unexpected error and goes on watching",
        "read the journal for the traceback; restart the service to clear",
    )
    SUPERVISOR = (
        "supervisor",
        "status",
        "nothing",
        "restart",
        (
            "the supervision loop (worker restarts, trust, clock and breaker checks) met an "
            "unexpected error and goes on"
        ),
        "read the journal for the traceback; restart the service to clear",
    )
    WORKER = (
        "worker_<name>",
        "status",
        "nothing",
        "automatic",
        (
            "a worker thread died and is being restarted (detail: `stopped; restarting in N s`, "
            "`restarted (N restart(s) since start)` or `restart failed (...)`)"
        ),
        (
            "read the journal around `worker <name> stopped`; repeated restarts: restart the "
            "service and report the traceback"
        ),
    )
    PLATFORM_BREAKER = (
        "platform_breaker",
        "status",
        "nothing",
        "automatic",
        (
            "a platform route failed repeatedly; its credentials are decided by "
            "`platform.fallback` without waiting (detail: the URL and `open` / `half_open`)"
        ),
        (
            "network to the platform, its certificate, the app secret or the gate clock (HTTP 401"
            " in the journal: the platform refuses requests whose time is more than 300 s off); "
            "clears at the first answer"
        ),
    )
    SENSOR_FAULT = (
        "sensor_fault",
        "presentation",
        "nothing",
        "automatic",
        (
            "the thermometer failed or returned invalid data; the presentation is denied "
            "`sensor_fault`"
        ),
        "judged again at the next person",
    )
    PASSAGE_INPUT_FAULT = (
        "passage_input_fault",
        "presentation",
        "nothing",
        "automatic",
        "the PASS input could not be read; the passage is recorded `granted_not_passed`",
        "judged again at the next pass",
    )
    CONTROLLER_FAULT = (
        "controller_fault",
        "presentation",
        "nothing",
        "automatic",
        "a presentation was aborted by an internal error; the gate stayed shut",
        "the next person starts afresh",
    )

    @classmethod
    def named(cls, name: str) -> Fault | None:
        """The catalogue entry of a published fault name (`worker_<name>` for every worker)."""
        if name.startswith(WORKER_FAULT_PREFIX):
            return cls.WORKER
        member = cls._value2member_map_.get(name)
        return member if isinstance(member, Fault) else None


WORKER_FAULT_PREFIX = "worker_"


def worker_fault(worker: str) -> str:
    """The status fault of a worker being restarted: "mqtt-outbox" -> "worker_mqtt_outbox"."""
    return WORKER_FAULT_PREFIX + worker.replace("-", "_")


def fault_scope(name: str) -> FaultScope:
    """What a fault keeps shut; an unknown fault blocks everything (fail closed)."""
    fault = Fault.named(name)
    return "everything" if fault is None else fault.blocks
