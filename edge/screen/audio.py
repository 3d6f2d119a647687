"""Where voice prompts go: a player command fed WAV on its standard input, or a log of the
prompts (the demo, tests); prompts rendered ahead of time with espeak-ng."""

from __future__ import annotations

import array
import hashlib
import io
import shlex
import shutil
import subprocess
import sys
import threading
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from edge.errors import GateEdgeError

PLAY_TIMEOUT_S = 30.0
RENDER_TIMEOUT_S = 20.0
SOUND_DEVICES = Path("/dev/snd")


class AudioError(GateEdgeError):
    """A prompt could not be rendered or played."""


@dataclass(frozen=True)
class Prompt:
    """One prompt in one language: its catalogue key, its text, and its sound when there is one."""

    language: str
    key: str
    text: str
    wav: bytes | None = None


@runtime_checkable
class AudioOut(Protocol):
    """Plays prompts; raises AudioError when it cannot."""

    wants_sound: bool
    """Prompts need their WAV (False: the text is enough, nothing is rendered)."""

    def problem(self) -> str | None:
        """Why nothing can be played at all (None: ready)."""
        ...

    def play(self, prompt: Prompt) -> None:
        """Play one prompt to its end."""
        ...


class CommandAudioOut:
    """Pipes each prompt's WAV to a player command (default `aplay -q -`)."""

    wants_sound = True

    def __init__(self, command: str, devices: Path = SOUND_DEVICES) -> None:
        self._argv = shlex.split(command)
        self._devices = devices

    def problem(self) -> str | None:
        """Why prompts cannot be played (missing player or sound device), or None."""
        if not self._argv or shutil.which(self._argv[0]) is None:
            return f"player {self._argv[0] if self._argv else '(none)'!r} not found"
        if not self._devices.is_dir():
            return f"no sound device ({self._devices} missing)"
        return None

    def play(self, prompt: Prompt) -> None:
        """Pipe the prompt's WAV to the player; raise AudioError when the player fails."""
        if prompt.wav is None:
            return
        try:
            done = subprocess.run(
                self._argv,
                check=False,
                input=prompt.wav,
                capture_output=True,
                timeout=PLAY_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AudioError(f"player failed: {exc}") from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip()[-200:]
            raise AudioError(f"player exited {done.returncode}: {detail}")


@dataclass
class PromptLog:
    """Writes what would be played, one line per prompt (the demo), and keeps the prompts."""

    out: TextIO | None = None
    wants_sound: bool = False
    prompts: list[Prompt] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self) -> str | None:
        """None: a log can always be written."""
        return None

    def play(self, prompt: Prompt) -> None:
        """Keep the prompt and write one line describing it."""
        with self._lock:
            self.prompts.append(prompt)
            if self.out is not None:
                sound = f"{len(prompt.wav)} B WAV" if prompt.wav else "text only"
                print(
                    f"    voice {prompt.language} {prompt.key}: {prompt.text} ({sound})",
                    file=self.out,
                    flush=True,
                )


def espeak_available() -> bool:
    """espeak-ng is installed."""
    return shutil.which("espeak-ng") is not None


def render_espeak(text: str, voice: str, cache_dir: Path) -> bytes:
    """The WAV of `text` spoken by espeak-ng's `voice`, rendered once into `cache_dir`."""
    digest = hashlib.sha256(f"{voice}|{text}".encode()).hexdigest()[:20]
    path = cache_dir / f"{digest}.wav"
    partial = path.with_suffix(".part")
    argv = ["espeak-ng", "-v", voice, "-w", str(partial), "--", text]
    try:
        if path.is_file():
            return path.read_bytes()
        cache_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(argv, check=False, capture_output=True, timeout=RENDER_TIMEOUT_S)
        if done.returncode != 0 or not partial.is_file():
            raise AudioError(f"espeak-ng exited {done.returncode}")
        partial.replace(path)
        return path.read_bytes()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"espeak-ng: {exc}") from exc


def read_recording(path: Path) -> bytes:
    """An operator's recording."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AudioError(f"recording {path}: {exc.strerror or exc}") from exc


def scaled(wav: bytes, percent: int) -> bytes:
    """16-bit PCM scaled to `percent` of its volume (other sample widths as they are)."""
    if percent >= 100:
        return wav
    try:
        with wave.open(io.BytesIO(wav)) as reader:
            params = reader.getparams()
            frames = reader.readframes(params.nframes)
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a WAV file: {exc}") from exc
    if params.sampwidth != 2:
        return wav
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    factor = percent / 100.0
    samples = array.array("h", (int(sample * factor) for sample in samples))
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setparams(params)
        writer.writeframes(samples.tobytes())
    return out.getvalue()
