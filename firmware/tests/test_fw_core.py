"""The board's logic: relay off at boot, capped self-closing pulses, heartbeat deadline, inputs."""

import gateio_core as core
from gateio_core import BoardIO, GateBoard, ticks_diff
from gateio_proto import FIRMWARE_VERSION, FrameReader, encode


class RecordingIO(BoardIO):
    def __init__(self):
        self.relay = None
        self.relay_log = []
        self.outputs = {}
        self.passage = False
        self.button = False
        self.maintenance = 0

    def set_relay(self, on):
        self.relay = on
        self.relay_log.append(on)

    def set_output(self, name, on):
        self.outputs[name] = on

    def read_passage(self):
        return self.passage

    def read_button(self):
        return self.button

    def enter_maintenance(self):
        self.maintenance += 1


class Host:
    """Talks to a GateBoard the way the host driver does, frame by frame."""

    def __init__(self, start=0):
        self.io = RecordingIO()
        self.now = start
        self.board = GateBoard(self.io, start)
        self.seq = 0
        self.reader = FrameReader()

    def send(self, text, seq=None):
        if seq is None:
            self.seq = (self.seq + 1) % 256
            seq = self.seq
        replies = self.reader.feed(self.board.receive(encode(seq, text), self.now))
        assert len(replies) <= 1
        return replies[0][1] if replies else None

    def advance(self, ms, step=1):
        for _ in range(ms // step):
            self.now = core.ticks_add(self.now, step)
            self.board.tick(self.now)


def test_relay_off_and_fault_lamp_on_at_boot():
    host = Host()
    assert host.io.relay_log == [False]
    assert host.io.outputs == {"G": False, "R": False, "Z": False, "F": True}


def test_open_refused_before_hello():
    host = Host()
    assert host.send("OPEN 300") == "ERR NOTREADY"
    assert host.io.relay is False


def test_hello_reports_versions_and_clears_fault_lamp():
    host = Host()
    assert host.send("HELLO 1") == f"OK HELLO 1 {FIRMWARE_VERSION} 500 2000"
    assert host.io.outputs["F"] is False
    assert host.send("HELLO 2") == "ERR PROTO 1"
    assert host.send("VERSION") == f"OK VERSION {FIRMWARE_VERSION} 1"


def test_pulse_is_capped_and_ends_by_itself():
    host = Host()
    host.send("HELLO 1")
    assert host.send("OPEN 60000") == "OK OPEN 2000"
    assert host.io.relay is True
    for _ in range(19):
        host.advance(100)
        host.send("HB")
    assert host.io.relay is True
    host.advance(100)
    assert host.io.relay is False
    assert host.io.relay_log == [False, True, False]


def test_short_request_is_raised_to_minimum():
    host = Host()
    host.send("HELLO 1")
    assert host.send("OPEN 5") == "OK OPEN 100"
    host.advance(99)
    assert host.io.relay is True
    host.advance(1)
    assert host.io.relay is False


def test_overlapping_opens_never_exceed_cap_from_first_energise():
    host = Host()
    host.send("HELLO 1")
    host.send("OPEN 1500")
    for _ in range(9):
        host.advance(200)
        host.send("OPEN 1500")
    assert host.io.relay is True
    host.advance(199)
    assert host.io.relay is True
    host.advance(1)
    assert host.io.relay is False


def test_heartbeat_deadline_drops_relay_and_lights_fault():
    host = Host()
    host.send("HELLO 1")
    host.send("OPEN 2000")
    host.advance(core.HEARTBEAT_DEADLINE_MS - 1)
    assert host.io.relay is True
    host.advance(1)
    assert host.io.relay is False
    assert host.io.outputs["F"] is True
    assert host.board.heartbeat_losses == 1
    assert host.send("OPEN 300") == "ERR NOTREADY"
    assert host.send("HB") == "ERR NOTREADY"
    assert host.send("HELLO 1").startswith("OK HELLO")
    assert host.io.outputs["F"] is False


def test_heartbeats_keep_the_board_armed():
    host = Host()
    host.send("HELLO 1")
    for _ in range(50):
        host.advance(100)
        assert host.send("HB").startswith("OK HB")
    assert host.board.armed and host.board.heartbeat_losses == 0


def test_duplicate_frame_answered_from_cache_not_executed_twice():
    host = Host()
    host.send("HELLO 1")
    first = host.send("OPEN 300", seq=40)
    host.advance(300)
    assert host.io.relay is False
    again = host.send("OPEN 300", seq=40)
    assert again == first and host.io.relay is False
    assert host.board.opens == 1 and host.board.duplicates == 1


def test_inputs_debounced_and_counted_in_heartbeat():
    host = Host()
    host.send("HELLO 1")
    host.io.passage = True
    host.advance(10)
    host.io.passage = False
    host.advance(50)
    assert host.send("HB") == "OK HB 0 0 0 0 0"
    host.io.passage = True
    host.advance(25)
    assert host.send("HB") == "OK HB 0 1 1 0 0"
    host.io.passage = False
    host.io.button = True
    host.advance(25)
    assert host.send("HB") == "OK HB 0 0 1 1 1"


def test_outputs_and_errors():
    host = Host()
    host.send("HELLO 1")
    assert host.send("OUT G 1") == "OK OUT G 1"
    assert host.io.outputs["G"] is True
    assert host.send("OUT F 1") == "ERR ARG OUT"
    assert host.send("OUT G 2") == "ERR ARG OUT"
    assert host.send("OPEN -5") == "ERR ARG OPEN"
    assert host.send("FLY") == "ERR CMD FLY"


def test_heartbeat_loss_switches_lamps_off():
    host = Host()
    host.send("HELLO 1")
    host.send("OUT R 1")
    host.advance(core.HEARTBEAT_DEADLINE_MS)
    assert host.io.outputs["R"] is False


def test_status_fields():
    host = Host()
    host.send("HELLO 1")
    host.send("OPEN 400")
    host.board.receive(b"junk:zz\n", host.now)
    fields = dict(item.split("=") for item in host.send("STATUS").split(" ")[2:])
    assert fields["fw"] == FIRMWARE_VERSION and fields["relay"] == "1"
    assert fields["left"] == "400" and fields["opens"] == "1" and fields["bad"] == "1"
    assert fields["reset"] == "power" and fields["armed"] == "1"


def test_maint_releases_relay_and_enters_maintenance():
    host = Host()
    host.send("HELLO 1")
    host.send("OPEN 1000")
    assert host.send("MAINT") == "OK MAINT"
    assert host.io.relay is False and host.io.maintenance == 1


def test_ticks_wrap_around():
    assert ticks_diff(5, core.TICKS_PERIOD - 5) == 10
    assert ticks_diff(core.TICKS_PERIOD - 5, 5) == -10
    host = Host(start=core.TICKS_PERIOD - 150)
    host.send("HELLO 1")
    host.send("OPEN 300")
    host.advance(200)
    host.send("HB")
    host.advance(99)
    assert host.io.relay is True
    host.advance(1)
    assert host.io.relay is False


def test_relay_rests_after_each_pulse():
    host = Host()
    host.send("HELLO 1")
    host.send("OPEN 300")
    host.advance(300)
    assert host.io.relay is False
    assert host.send("OPEN 300") == "ERR BUSY 300"
    host.advance(299)
    host.send("HB")
    assert host.send("OPEN 300") == "ERR BUSY 1"
    host.advance(1)
    assert host.send("OPEN 300") == "OK OPEN 300"
    host.send("CLOSE")
    host.advance(50)
    host.send("HB")
    assert host.send("OPEN 100") == "ERR BUSY 50"  # at least MIN_OFF_MS after a short pulse
    host.advance(50)
    assert host.send("OPEN 100") == "OK OPEN 100"
    assert host.board.opens == 3
