"""The fleet page in a real headless Chromium: gates reach it through a real mosquitto and the
collector; one goes offline, another reports a fault, and the page shows both, worst first.
Screenshots are kept in test-artifacts/fleet-page/."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from central.collect.collector import Collector, CollectorSettings
from central.collect.store import FleetStore, open_store
from central.fleet.server import RunningFleetPage
from edge.clock import SystemClock
from edge.events import GateEvent, Verdict
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from tests.broker import Broker

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTEFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "fleet-page"
TOKEN = "correct horse battery staple"
pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
    reason="chromium and chromium-driver are not installed; scripts/bootstrap.sh installs them",
)


class FakeGate:
    """A gate's real MQTT side: outbox, persistent-session publisher, retained status."""

    def __init__(self, broker: Broker, directory: Path, gate: str) -> None:
        self.outbox = Outbox(directory / f"{gate}.db", site="east", gate=gate, clock=SystemClock())
        self.publisher = EventPublisher(
            MqttSettings(broker=broker.url), site="east", gate=gate, outbox=self.outbox,
            clock=SystemClock(),
        )  # fmt: skip
        self.publisher.start()

    def stop(self) -> None:
        self.publisher.stop(drain_timeout_s=5)
        self.outbox.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def collected(mqtt_broker: Broker, tmp_path: Path) -> Iterator[FleetStore]:
    store = open_store(f"sqlite:///{tmp_path / 'fleet.db'}")
    ready = threading.Event()
    collector = Collector(
        CollectorSettings(broker=mqtt_broker.url, client_id="page-test"), store,
        on_subscribed=ready.set,
    )  # fmt: skip
    collector.start()
    assert ready.wait(10)
    yield store
    collector.stop()
    store.close()


_SNAPSHOT = """return [...document.querySelectorAll('#gates tbody tr')].map(r => [r.dataset.gate,
    r.dataset.state, r.className, r.querySelector('td.faults').textContent,
    r.children[10].textContent])"""


_REFUSED = "return location.search === '?failed=1' && !document.getElementById('failed').hidden"
_PASS_BARS = """return [...document.querySelectorAll('#chart rect.passes')]
    .map(r => r.getAttribute('height'))"""


def _rows(driver: Any) -> list[list[str]]:
    """[gate, state, class, faults, passes today] of every row, top to bottom, read at once
    (the page redraws itself all the time)."""
    rows: list[list[str]] = driver.execute_script(_SNAPSHOT)
    return rows


def test_the_page_shows_an_offline_gate_and_a_fault(
    mqtt_broker: Broker, collected: FleetStore, tmp_path: Path, browser: Any
) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver: Any = browser
    wait = WebDriverWait(driver, 15, poll_frequency=0.1)
    gates = [FakeGate(mqtt_broker, tmp_path, name) for name in ("g01", "g02", "g03")]
    page = RunningFleetPage(collected, TOKEN, refresh_s=0.3).start()
    try:
        decisions: list[Verdict] = ["pass", "pass", "deny"]
        for decision in decisions:
            reasons = () if decision == "pass" else ("colour_red",)
            event = GateEvent(kind="decision", decision=decision, method="camera", reasons=reasons)
            gates[0].outbox.emit(event)
        driver.get(page.url)
        assert driver.current_url.endswith("/login")
        _log_in(driver, "not the token")
        wait.until(lambda d: d.execute_script(_REFUSED))
        _log_in(driver, TOKEN)
        wait.until(lambda d: [r[:2] for r in _rows(d)] == [
            ["east/g01", "online"], ["east/g02", "online"], ["east/g03", "online"]
        ])  # fmt: skip
        wait.until(lambda d: _rows(d)[0][4] == "2")
        driver.save_screenshot(str(ARTEFACTS / "1-all-online.png"))

        gates[1].stop()  # orderly stop: its retained status says offline
        gates[2].publisher.set_fault("relay_fault", "the relay did not release")
        wait.until(
            lambda d: [r[:3] for r in _rows(d)]
            == [["east/g03", "online", "faulted"], ["east/g02", "offline", "offline"],
                ["east/g01", "online", ""]]
        )  # fmt: skip
        assert _rows(driver)[0][3] == "relay_fault"
        driver.save_screenshot(str(ARTEFACTS / "2-offline-and-fault.png"))

        driver.execute_script("document.querySelector('tr[data-gate=\"east/g01\"]').click()")
        wait.until(lambda d: d.execute_script(
            "return document.querySelectorAll('#decisions tbody tr').length") == 3)  # fmt: skip
        heights = driver.execute_script(_PASS_BARS)
        assert len(heights) == 24 and max(float(h) for h in heights) > 0
        driver.save_screenshot(str(ARTEFACTS / "3-gate-detail.png"))
        # Nothing is fetched from anywhere but the page's own server.
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert fetched and all(url.startswith(page.url) for url in fetched)
    finally:
        page.stop()
        for gate in (gates[0], gates[2]):
            gate.stop()


def _log_in(driver: Any, token: str) -> None:
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    driver.find_element(By.ID, "login").click()
