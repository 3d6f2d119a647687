"""The visitor screen in a real headless Chromium: every visitor of the demo, every shipped
language, Mongolian vertical before the Chinese; screenshots kept in test-artefacts/screen/."""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from edge.app.gate import GateService
from edge.core.records import DecisionRecord
from edge.faults import Fault
from edge.screen.catalogue import load_catalogues
from edge.sim.credentials import SimCredentials
from edge.sim.demo import run_demo
from edge.sim.scenario import Step, demo_scenario

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTEFACTS = Path(__file__).resolve().parent.parent / "test-artefacts" / "screen"
SHOWN_WITHIN_S = 5.0  # a liveness bound for the wait; the push latency is recorded, not asserted
LANGUAGES = ["mn-Mong", "zh", "en"]

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--incognito",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _page_state(driver: Any) -> dict[str, Any]:
    """What the page shows: body data and each language block's text and layout."""
    script = """
    const body = document.body;
    const blocks = [...document.querySelectorAll('#languages .lang')].map((block) => {
      const rect = block.getBoundingClientRect();
      const headline = block.querySelector('.headline');
      const style = getComputedStyle(block);
      return {tag: block.dataset.tag, headline: headline.textContent,
              next: [...block.querySelectorAll('.next')].map((p) => p.textContent),
              writing: style.writingMode, family: style.fontFamily,
              size: getComputedStyle(headline).fontSize,
              left: rect.left, right: rect.right, top: rect.top,
              fontReady: document.fonts.check('48px GateMongolian', headline.textContent)};
    });
    return {seq: Number(body.dataset.seq), phase: body.dataset.phase, colour: body.dataset.colour,
            shownAt: Number(body.dataset.shownAt || 0), blocks: blocks,
            temperature: document.getElementById('temperature').textContent,
            name: document.getElementById('name').textContent,
            stored: localStorage.length + sessionStorage.length + document.cookie.length};
    """
    result: dict[str, Any] = driver.execute_script(script)
    return result


def _wait_for(driver: Any, accept: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + SHOWN_WITHIN_S
    state = _page_state(driver)
    while not accept(state) and time.monotonic() < deadline:
        time.sleep(0.01)
        state = _page_state(driver)
    return state


def test_every_demo_visitor_is_shown_in_every_language(browser: Any) -> None:
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    catalogues = load_catalogues(LANGUAGES)
    seen: list[dict[str, Any]] = []
    problems: list[str] = []

    def observe(index: int, step: Step | None, record: DecisionRecord | None, service: Any) -> None:
        assert isinstance(service, GateService) and service.screen is not None
        if step is None:  # the gate has started: the idle screen, before the first visitor
            browser.get(service.screen.url)
            idle = {tag: catalogues[tag].state("idle").screen for tag in LANGUAGES}
            state = _wait_for(
                browser,
                lambda page: (
                    page["phase"] == "idle"
                    and {block["tag"]: block["headline"] for block in page["blocks"]} == idle
                ),
            )
            browser.save_screenshot(str(ARTEFACTS / "00-idle.png"))
            if state["phase"] != "idle":
                problems.append(f"idle screen not shown: {state}")
            return
        if record is None:
            problems.append(f"{step.label}: no decision")
            return
        texts = {
            tag: (
                catalogues[tag].state(record.verdict).screen,
                catalogues[tag].reason(record.reasons[0]).screen if record.reasons else None,
            )
            for tag in LANGUAGES
        }

        def shows_it(state: dict[str, Any]) -> bool:
            blocks = {block["tag"]: block for block in state["blocks"]}
            return state["phase"] == "decision" and all(
                tag in blocks
                and blocks[tag]["headline"] == headline
                and (reason is None or reason in blocks[tag]["next"])
                for tag, (headline, reason) in texts.items()
            )

        state = _wait_for(browser, shows_it)
        browser.save_screenshot(str(ARTEFACTS / f"{index:02d}-{step.label.replace(' ', '-')}.png"))
        if not shows_it(state):
            problems.append(f"{step.label}: page shows {state['phase']} {state['blocks']}")
            return
        state["visitor"] = step.label
        state["latency_ms"] = round(state["shownAt"] - record.at * 1000.0, 1)
        seen.append(state)
        if index == len(outcome_steps):  # after the last visitor: the relay fails
            service.controller.report_fault(Fault.RELAY_FAULT, "pulse failed")
            broken = {tag: catalogues[tag].state("out_of_service").screen for tag in LANGUAGES}
            shown = _wait_for(
                browser,
                lambda page: (
                    page["phase"] == "out_of_service"
                    and {block["tag"]: block["headline"] for block in page["blocks"]} == broken
                ),
            )
            browser.save_screenshot(str(ARTEFACTS / "99-out-of-service.png"))
            if shown["phase"] != "out_of_service" or shown["name"] or shown["temperature"]:
                problems.append(f"out of service not shown: {shown}")

    outcome_steps = demo_scenario(SimCredentials.generate(), time.time()).steps
    out = io.StringIO()
    outcome = run_demo(out, use_broker=False, online_gate=False, pace_s=0.0, observer=observe)
    assert outcome.mismatches == [], out.getvalue()
    (ARTEFACTS / "visitors.json").write_text(json.dumps(seen, ensure_ascii=False, indent=1))
    assert problems == [], problems
    assert len(seen) == len(outcome.rows)
    for state in seen:
        blocks = {block["tag"]: block for block in state["blocks"]}
        assert [block["tag"] for block in state["blocks"]] == LANGUAGES  # [screen] order
        mongolian, chinese = blocks["mn-Mong"], blocks["zh"]
        assert mongolian["writing"] == "vertical-lr"
        assert chinese["writing"] == "horizontal-tb"
        assert mongolian["right"] <= chinese["left"], "Mongolian stands before the Chinese"
        assert mongolian["size"] == chinese["size"], "at the same size"
        assert "GateMongolian" in mongolian["family"] and mongolian["fontReady"]
        assert state["stored"] == 0, "nothing stored in the browser"
    colours = [state["colour"] for state in seen]
    assert colours[:3] == ["green", "yellow", "red"]
    assert seen[0]["temperature"].endswith("°C") and seen[0]["name"] == "张*"
    dcc = next(state for state in seen if state["visitor"] == "EU DCC, vaccinated")
    assert dcc["name"] == "T* T*"  # the certificate's initials only
    latencies = sorted(state["latency_ms"] for state in seen)
    print(f"decision → page: median {latencies[len(latencies) // 2]} ms, max {latencies[-1]} ms")
