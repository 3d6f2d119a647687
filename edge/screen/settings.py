"""Configuration of the visitor screen ([screen]) and the voice prompts ([voice])."""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge.configschema import setting

LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _listen_problem(value: str) -> str | None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        return f"{value!r} is not HOST:PORT (port 0-65535; 0 picks a free one)"
    return None


def _languages_problem(value: list[str]) -> str | None:
    if not value:
        return "name at least one language"
    bad = [tag for tag in value if not LANGUAGE_TAG.match(tag)]
    if bad:
        return f"not a language tag: {', '.join(repr(tag) for tag in bad)}"
    if len(set(value)) != len(value):
        return "a language is listed twice"
    return None


def _quiet_problem(value: str) -> str | None:
    if value and not _QUIET.match(value):
        return f"{value!r} is not HH:MM-HH:MM (empty: no quiet hours)"
    return None


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT as a (host, port) pair (validated by the configuration)."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def quiet_window(value: str) -> tuple[int, int] | None:
    """HH:MM-HH:MM as (start, end) minutes of the day; None when empty."""
    match = _QUIET.match(value)
    if not match:
        return None
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


@dataclass(frozen=True)
class ScreenSettings:
    """The visitor screen: a local page a kiosk browser shows full screen."""

    enabled: bool = setting(False, doc="Serve the visitor screen.")
    listen: str = setting(
        "127.0.0.1:8088",
        doc="HOST:PORT of the page (/), its state as JSON (/state) and its updates (/events).",
        check=_listen_problem,
    )
    languages: list[str] = setting(  # noqa: RUF009 (setting() is a dataclasses.field)
        default_factory=lambda: ["mn-Mong", "zh", "en"],
        doc="Languages on the screen, in screen order (one text catalogue each).",
        check=_languages_problem,
    )
    texts_dir: str = setting(
        "",
        doc=(
            "Directory of operator text catalogues (<language>.toml): their entries replace the "
            "shipped ones; a new language needs a complete catalogue."
        ),
    )
    decision_hold_s: float = setting(
        5.0,
        minimum=1.0,
        maximum=60.0,
        doc="A decision stays on the screen this long unless the next visitor comes first.",
    )


@dataclass(frozen=True)
class VoiceSettings:
    """Spoken prompts for the same moments as the screen."""

    enabled: bool = setting(False, doc="Speak prompts.")
    languages: list[str] = setting(  # noqa: RUF009 (setting() is a dataclasses.field)
        default_factory=lambda: ["mn-Mong", "zh"],
        doc=(
            "Languages spoken, in order; each from a recording in recordings_dir, else rendered "
            "by espeak-ng where it has a voice (none for mn-Mong: record it)."
        ),
        check=_languages_problem,
    )
    recordings_dir: str = setting(
        "",
        doc="Operator recordings: <dir>/<language>/<prompt>.wav (e.g. mn-Mong/reason.fever.wav).",
    )
    volume_percent: int = setting(80, minimum=0, maximum=100, doc="Volume.")
    quiet_hours: str = setting(
        "", doc="HH:MM-HH:MM local time with the quiet volume (empty: none).", check=_quiet_problem
    )
    quiet_volume_percent: int = setting(
        30, minimum=0, maximum=100, doc="Volume during quiet hours (0: silent)."
    )
    player: str = setting(
        "aplay -q -", doc="Command that plays a WAV file read from its standard input."
    )
