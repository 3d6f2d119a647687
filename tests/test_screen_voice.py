"""Voice prompts: which moment speaks, volume and quiet hours, never blocking the controller,
rendered with espeak-ng, and an unplayable prompt as an audio fault that blocks nothing."""

from __future__ import annotations

import array
import io
import shutil
import threading
import time
import wave
from pathlib import Path

import pytest

from edge.clock import FakeClock
from edge.core.faults import faults_blocking
from edge.core.records import GateState
from edge.faults import Fault
from edge.screen.audio import AudioError, CommandAudioOut, Prompt, PromptLog, render_espeak, scaled
from edge.screen.catalogue import load_catalogues
from edge.screen.settings import VoiceSettings
from edge.screen.view import Moment
from edge.screen.voice import VoicePlayer, prompt_key, volume_now
from tests.test_screen_feed import record
from tests.waiting import wait_until as _wait

CATALOGUES = load_catalogues(["mn-Mong", "zh", "en"])


def test_the_moments_that_speak() -> None:
    idle = Moment(GateState.IDLE, None, ())
    assert prompt_key("reading", idle) is None
    assert prompt_key("reading", Moment(GateState.TEMPERATURE, None, ())) == "states.measuring"
    assert prompt_key("measuring", Moment(GateState.TEMPERATURE, None, ())) is None
    deny = Moment(GateState.DECISION, record(reasons=("fever",)), ())
    assert prompt_key("measuring", deny) == "reasons.fever"
    passed = Moment(GateState.DECISION, record("pass", ()), ())
    assert prompt_key("reading", passed) == "states.pass"
    broken = Moment(GateState.IDLE, None, ("storage_fault",))
    assert prompt_key("idle", broken) == "states.out_of_service"
    worker = Moment(GateState.DECISION, record(reasons=("worker_scan",)), ())
    assert prompt_key("reading", worker) == "faults.worker_<name>"


def test_quiet_hours_wrap_midnight() -> None:
    settings = VoiceSettings(
        enabled=True, volume_percent=80, quiet_hours="22:00-07:00", quiet_volume_percent=20
    )
    at = time.mktime((2026, 1, 1, 23, 30, 0, 0, 0, -1))
    assert volume_now(settings, at) == 20
    assert volume_now(settings, at + 8 * 3600) == 80  # 07:30
    assert volume_now(VoiceSettings(volume_percent=55), at) == 55


class BlockingAudio:
    """Plays nothing until released; fails while `broken`."""

    wants_sound = False

    def __init__(self) -> None:
        self.release = threading.Event()
        self.played: list[Prompt] = []
        self.broken = False

    def problem(self) -> str | None:
        return None

    def play(self, prompt: Prompt) -> None:
        self.release.wait(5)
        if self.broken:
            raise AudioError("device gone")
        self.played.append(prompt)


def _player(audio: object, faults: list[str], settings: VoiceSettings | None = None) -> VoicePlayer:
    return VoicePlayer(
        settings or VoiceSettings(enabled=True, languages=["zh"]),
        CATALOGUES,
        audio,  # type: ignore[arg-type]
        FakeClock(),
        Path("/nonexistent"),
        on_fault=faults.append,
        on_recover=lambda: faults.append("cleared"),
    )


def test_a_busy_speaker_never_holds_up_the_controller() -> None:
    audio, faults = BlockingAudio(), list[str]()
    player = _player(audio, faults)
    player.start()
    try:
        moments = [Moment(GateState.DECISION, record(reasons=(r,)), ()) for r in ("fever",) * 1]
        moments += [
            Moment(GateState.TEMPERATURE, None, ()),
            Moment(GateState.DECISION, record(reasons=("revoked",)), ()),
        ] * 10
        for moment in moments:  # while the speaker is stuck on the first prompt
            player.on_moment(moment)
        audio.release.set()
        assert _wait(lambda: audio.played and audio.played[-1].key == "reasons.revoked")
        assert len(audio.played) <= 1 + 4  # the oldest were dropped, the newest spoken
    finally:
        player.stop()


def test_an_unplayable_prompt_is_an_audio_fault_cleared_when_it_plays_again() -> None:
    audio, faults = BlockingAudio(), list[str]()
    audio.release.set()
    audio.broken = True
    player = _player(audio, faults)
    player.start()
    try:
        player.on_moment(Moment(GateState.DECISION, record(reasons=("fever",)), ()))
        assert _wait(lambda: faults)
        assert "device gone" in faults[0]
        audio.broken = False
        player.on_moment(Moment(GateState.TEMPERATURE, None, ()))
        assert _wait(lambda: "cleared" in faults)
    finally:
        player.stop()
    assert Fault.AUDIO_FAULT.blocks == "nothing"
    assert faults_blocking(["audio_fault"], "camera", None) == ()


def test_a_missing_sound_device_is_reported_at_start(tmp_path: Path) -> None:
    faults: list[str] = []
    player = _player(CommandAudioOut("sh -c true", devices=tmp_path / "snd"), faults)
    player.start()
    player.stop()
    assert faults and "no sound device" in faults[0]
    assert "not found" in (CommandAudioOut("no-such-player -q").problem() or "")


def test_the_player_command_gets_the_sound_and_its_failure_is_an_audio_error(
    tmp_path: Path,
) -> None:
    heard = tmp_path / "heard.wav"
    CommandAudioOut(f"sh -c 'cat > {heard}'").play(Prompt("zh", "states.pass", "请通行", b"RIFF"))
    assert heard.read_bytes() == b"RIFF"
    with pytest.raises(AudioError, match="exited 3"):
        CommandAudioOut("sh -c 'echo no card >&2; exit 3'").play(
            Prompt("zh", "states.pass", "请通行", b"RIFF")
        )


def test_silent_during_quiet_hours_at_volume_zero() -> None:
    log = PromptLog()
    settings = VoiceSettings(enabled=True, languages=["zh"], volume_percent=0)
    player = _player(log, [], settings)
    player.start()
    player.on_moment(Moment(GateState.DECISION, record("pass", ()), ()))
    player.stop()
    assert log.prompts == []


def _samples(wav: bytes) -> array.array[int]:
    with wave.open(io.BytesIO(wav)) as reader:
        return array.array("h", reader.readframes(reader.getnframes()))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_prompts_are_rendered_once_with_espeak_and_scaled(tmp_path: Path) -> None:
    wav = render_espeak("请通行", "cmn", tmp_path)
    assert wav[:4] == b"RIFF"
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    assert render_espeak("请通行", "cmn", tmp_path) == wav
    assert files[0].stat().st_mtime_ns == stamp  # from the cache
    loud, quiet = _samples(wav), _samples(scaled(wav, 50))
    assert max(map(abs, quiet)) <= max(map(abs, loud)) // 2 + 1
    with pytest.raises(AudioError):
        scaled(b"not a wav", 50)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_an_unwritable_render_directory_is_an_audio_error_not_a_dead_thread(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(AudioError):
        render_espeak("请通行", "cmn", blocker / "voice")
    settings = VoiceSettings(enabled=True, languages=["zh"])
    faults: list[str] = []
    player = VoicePlayer(
        settings,
        CATALOGUES,
        PromptLog(wants_sound=True),
        FakeClock(),
        blocker,
        faults.append,
        lambda: None,
    )
    player.start()
    player.on_moment(Moment(GateState.DECISION, record("pass", ()), ()))
    assert _wait(lambda: faults)
    assert player.alive()
    player.stop()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_recordings_come_first_and_mongolian_is_spoken_only_from_them(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    (recordings / "mn-Mong").mkdir(parents=True)
    recorded = render_espeak("test", "en", tmp_path / "made")
    (recordings / "mn-Mong" / "states.pass.wav").write_bytes(recorded)
    settings = VoiceSettings(
        enabled=True, languages=["mn-Mong", "zh"], recordings_dir=str(recordings)
    )
    player = VoicePlayer(
        settings,
        CATALOGUES,
        PromptLog(wants_sound=True),
        FakeClock(),
        tmp_path / "voice",
        print,
        print,
    )
    passed = player.prompts("states.pass")
    assert [(p.language, p.wav is not None) for p in passed] == [("mn-Mong", True), ("zh", True)]
    assert passed[0].wav == recorded
    fever = player.prompts("reasons.fever")
    assert [(p.language, p.wav is not None) for p in fever] == [("mn-Mong", False), ("zh", True)]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_voice_thread_is_revived_and_not_after_stop() -> None:
    class Fatal(PromptLog):
        def play(self, prompt: Prompt) -> None:
            raise SystemExit("killed")

    player = _player(Fatal(), [])
    player.start()
    player.on_moment(Moment(GateState.DECISION, record("pass", ()), ()))
    assert _wait(lambda: not player.alive())
    player.revive()
    assert player.alive()
    player.stop()
    player.revive()
    assert not player.alive()
