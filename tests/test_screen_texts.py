"""The text catalogues: complete for every state, deny reason and fault, in every shipped
language, each with a screen text and a voice prompt; correctable by the operator."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.app.config import parse_config
from edge.app.configcheck import machine_problems
from edge.clock import FakeClock
from edge.errors import ConfigError
from edge.faults import Fault
from edge.reasons import Reason
from edge.screen.audio import PromptLog
from edge.screen.catalogue import (
    SHIPPED,
    STATES,
    catalogue_problems,
    load_catalogues,
    shipped_document,
)
from edge.screen.settings import VoiceSettings
from edge.screen.voice import VoicePlayer
from tests.gate_support import GateConfig

MONGOLIAN_MARKS = {" ", "\u202f", "\u180e"}  # space, narrow no-break space, vowel separator


@pytest.mark.parametrize("tag", SHIPPED)
def test_shipped_catalogue_is_complete(tag: str) -> None:
    document = shipped_document(tag)
    assert document is not None
    assert catalogue_problems(document) == []


def test_every_deny_reason_and_fault_has_a_screen_text_and_a_voice_prompt() -> None:
    catalogues = load_catalogues(list(SHIPPED))
    names = [f"reasons.{r}" for r in Reason] + [f"faults.{f}" for f in Fault]
    voice = VoicePlayer(
        VoiceSettings(enabled=True, languages=list(SHIPPED)),
        catalogues,
        PromptLog(),
        FakeClock(),
        Path("/nonexistent"),
        on_fault=lambda detail: None,
        on_recover=lambda: None,
    )
    for name in names:
        for catalogue in catalogues.values():
            entry = catalogue.entries[name]
            assert entry.screen.strip() and entry.voice.strip(), (catalogue.tag, name)
        spoken = voice.prompts(name)
        assert [prompt.language for prompt in spoken] == list(SHIPPED), name
    for state in STATES:
        assert all(c.state(state).screen for c in catalogues.values())


def test_mongolian_is_written_in_the_traditional_script() -> None:
    catalogue = load_catalogues(["mn-Mong"])["mn-Mong"]
    assert catalogue.vertical
    for key, entry in catalogue.entries.items():
        for char in entry.screen + entry.voice:
            assert char in MONGOLIAN_MARKS or "\u1800" <= char <= "\u18af", (key, char)
            assert unicodedata.category(char) != "Cc"


def test_a_deny_reason_given_as_fault_and_an_unknown_one_have_texts() -> None:
    zh = load_catalogues(["zh"])["zh"]
    assert zh.reason("relay_fault") == zh.fault("relay_fault")
    assert zh.reason("worker_scan") == zh.fault("worker_<name>")
    assert zh.reason("no_such_reason") == zh.state("deny")
    assert zh.fault("no_such_fault") == zh.state("out_of_service")


def test_the_operator_corrects_a_text_without_code(tmp_path: Path) -> None:
    (tmp_path / "zh.toml").write_text(
        '[reasons]\ncolour_yellow = { screen = "黄码：请到东门服务台", voice = "黄码，请到东门" }\n'
    )
    zh = load_catalogues(["zh"], str(tmp_path))["zh"]
    assert zh.reason("colour_yellow").screen == "黄码：请到东门服务台"
    assert (
        zh.reason("colour_red").screen == load_catalogues(["zh"])["zh"].reason("colour_red").screen
    )


def test_a_new_language_needs_a_complete_catalogue_and_every_problem_is_named(
    tmp_path: Path,
) -> None:
    (tmp_path / "ug.toml").write_text(
        '[language]\nname = "ئۇيغۇرچە"\nvertical = false\nespeak_voice = "ug"\n'
        '[states]\nidle = { screen = "x", voice = "" }\n'
    )
    (tmp_path / "en.toml").write_text("[states\n")
    with pytest.raises(ConfigError) as raised:
        load_catalogues(["ug", "en", "xx"], str(tmp_path))
    problems = raised.value.problems
    assert "screen.languages: ug: states.reading: missing" in problems
    assert "screen.languages: ug: [reasons] table missing" in problems
    assert any(p.startswith("screen.texts_dir:") and "en.toml" in p for p in problems)
    assert any(p.startswith("screen.languages: xx: no catalogue") for p in problems)


def test_config_check_reports_catalogue_problems_by_key_path(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    (tmp_path / "zh.toml").write_text('[reasons]\ncolour_yelow = { screen = "x", voice = "y" }\n')
    config = parse_config(
        gate_config(
            site="s", screen={"enabled": True, "languages": ["zh"], "texts_dir": str(tmp_path)}
        )
    )
    problems = machine_problems(config)
    assert "screen.languages: zh: reasons.colour_yelow: unknown" in problems
    missing = parse_config(
        gate_config(
            site="s",
            screen={"enabled": True, "texts_dir": str(tmp_path / "none")},
            voice={"enabled": True, "recordings_dir": str(tmp_path / "nothing")},
        )
    )
    problems = machine_problems(missing)
    assert f"screen.texts_dir: {tmp_path / 'none'} is not a directory" in problems
    assert f"voice.recordings_dir: {tmp_path / 'nothing'} is not a directory" in problems


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        ("screen", {"listen": "8088"}, "screen.listen"),
        ("screen", {"languages": []}, "screen.languages"),
        ("screen", {"languages": ["zh", "zh"]}, "screen.languages"),
        ("screen", {"languages": ["zh", "../etc"]}, "screen.languages"),
        ("voice", {"quiet_hours": "22-7"}, "voice.quiet_hours"),
        ("voice", {"volume_percent": 150}, "voice.volume_percent"),
    ],
)
def test_screen_and_voice_settings_are_validated(
    section: str, value: dict[str, object], message: str, gate_config: GateConfig
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({**gate_config(site="s"), section: value})
    assert any(problem.startswith(message) for problem in raised.value.problems)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(
    document=st.dictionaries(
        st.sampled_from(["language", "states", "reasons", "faults", "other"]), _VALUES, max_size=5
    )
)
def test_any_catalogue_document_gives_problems_never_a_crash(document: dict[str, object]) -> None:
    problems = catalogue_problems(document)
    assert isinstance(problems, list) and problems


@settings(max_examples=40, deadline=None)
@given(content=st.binary(max_size=200))
def test_any_operator_file_is_loaded_or_refused_clearly(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "en.toml").write_bytes(content)
        try:
            load_catalogues(["en"], directory)
        except ConfigError as exc:
            assert exc.problems
