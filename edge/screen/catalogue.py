"""Text catalogues: one TOML file per language, shipped with the gate and correctable by the
operator, complete for every screen state, deny reason and fault."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from edge.errors import ConfigError
from edge.faults import WORKER_FAULT_PREFIX, Fault
from edge.reasons import Reason

STATES = ("idle", "reading", "identity", "measuring", "pass", "deny", "out_of_service")
"""The screen states every catalogue names (voice may be "" for a silent state)."""

SECTIONS: dict[str, tuple[str, ...]] = {
    "states": STATES,
    "reasons": tuple(str(reason) for reason in Reason),
    "faults": tuple(str(fault) for fault in Fault),
}
MAX_TEXT_CHARS = 300
SHIPPED = ("mn-Mong", "zh", "en")


@dataclass(frozen=True)
class Entry:
    """What the screen shows and what the voice says for one moment."""

    screen: str
    voice: str


@dataclass(frozen=True)
class Catalogue:
    """One language's texts."""

    tag: str
    name: str
    vertical: bool
    espeak_voice: str
    entries: dict[str, Entry]  # "states.idle", "reasons.fever", "faults.relay_fault"

    def state(self, name: str) -> Entry:
        """A screen state's texts."""
        return self.entries[f"states.{name}"]

    def reason(self, name: str) -> Entry:
        """A deny reason's texts; a fault given as a reason has its fault texts; anything else
        the plain deny."""
        if name.startswith(WORKER_FAULT_PREFIX):
            name = Fault.WORKER
        for section in ("reasons", "faults"):
            entry = self.entries.get(f"{section}.{name}")
            if entry is not None:
                return entry
        return self.state("deny")

    def fault(self, name: str) -> Entry:
        """A fault's texts (out of service for one not in the catalogue)."""
        if name.startswith(WORKER_FAULT_PREFIX):
            name = Fault.WORKER
        return self.entries.get(f"faults.{name}") or self.state("out_of_service")


def shipped_document(tag: str) -> dict[str, Any] | None:
    """The shipped catalogue of a language as parsed TOML (None when none is shipped)."""
    source = resources.files("edge.screen") / "texts" / f"{tag}.toml"
    if not source.is_file():
        return None
    return tomllib.loads(source.read_text(encoding="utf-8"))


def load_catalogues(languages: list[str], texts_dir: str = "") -> dict[str, Catalogue]:
    """The catalogues of `languages`: shipped texts with the operator's files over them.
    Raise ConfigError listing every problem (missing language, bad file, missing entry)."""
    problems: list[str] = []
    catalogues: dict[str, Catalogue] = {}
    for tag in languages:
        document = _merged(tag, texts_dir, problems)
        if document is None:
            continue
        found = catalogue_problems(document)
        problems += [f"screen.languages: {tag}: {problem}" for problem in found]
        if not found:
            catalogues[tag] = _catalogue(tag, document)
    if problems:
        raise ConfigError(problems)
    return catalogues


def _merged(tag: str, texts_dir: str, problems: list[str]) -> dict[str, Any] | None:
    document = shipped_document(tag)
    override = Path(texts_dir) / f"{tag}.toml" if texts_dir else None
    if override is not None and override.is_file():
        try:
            operator = tomllib.loads(override.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"screen.texts_dir: {override}: not a readable TOML file ({exc})")
            return None
        if document is None:
            return operator
        for section, table in operator.items():
            if isinstance(table, dict) and isinstance(document.get(section), dict):
                document[section] = {**document[section], **table}
            else:
                document[section] = table
    if document is None:
        where = f" nor in {texts_dir}" if texts_dir else ""
        problems.append(f"screen.languages: {tag}: no catalogue shipped{where} ({tag}.toml)")
    return document


def catalogue_problems(document: dict[str, Any]) -> list[str]:
    """Every missing, unknown or malformed entry of a parsed catalogue."""
    problems = []
    language = document.get("language")
    if not isinstance(language, dict):
        problems.append("[language] table missing")
    else:
        for key, kind in (("name", str), ("vertical", bool), ("espeak_voice", str)):
            if not isinstance(language.get(key), kind):
                problems.append(f"language.{key}: missing or not {kind.__name__}")
    for section, required in SECTIONS.items():
        table = document.get(section)
        if not isinstance(table, dict):
            problems.append(f"[{section}] table missing")
            continue
        problems += [f"{section}.{name}: missing" for name in required if name not in table]
        problems += [f"{section}.{name}: unknown" for name in table if name not in required]
        for name, value in table.items():
            problem = _entry_problem(value, voiced=section != "states")
            if name in required and problem:
                problems.append(f"{section}.{name}: {problem}")
    return problems


def _entry_problem(value: Any, *, voiced: bool) -> str | None:
    if not isinstance(value, dict) or set(value) != {"screen", "voice"}:
        return 'expected { screen = "...", voice = "..." }'
    screen, voice = value["screen"], value["voice"]
    if not isinstance(screen, str) or not isinstance(voice, str):
        return "screen and voice must be strings"
    if not screen.strip():
        return "screen text is empty"
    if voiced and not voice.strip():
        return "voice prompt is empty"
    if len(screen) > MAX_TEXT_CHARS or len(voice) > MAX_TEXT_CHARS:
        return f"longer than {MAX_TEXT_CHARS} characters"
    return None


def _catalogue(tag: str, document: dict[str, Any]) -> Catalogue:
    language = document["language"]
    entries = {
        f"{section}.{name}": Entry(value["screen"], value["voice"])
        for section in SECTIONS
        for name, value in document[section].items()
    }
    return Catalogue(tag, language["name"], language["vertical"], language["espeak_voice"], entries)
