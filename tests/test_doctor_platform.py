"""The doctor asks each platform route: reachable, TLS, this gate authorised, clocks close; every
failure names its cause and a fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge.app.config import Config, parse_config
from edge.clock import SystemClock
from edge.doctor.platform import PROBE_ID, check_platforms
from edge.doctor.report import CheckResult
from edge.wire.idcard import normalise_id
from tests.gate_support import GateConfig
from tests.platform_support import APP_ID, SECRET, ReferencePlatform
from tests.waiting import free_port


class SkewedClock(SystemClock):
    def __init__(self, skew_s: float) -> None:
        self.skew_s = skew_s

    def now(self) -> float:
        return super().now() + self.skew_s


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferencePlatform]:
    running = ReferencePlatform(tmp_path_factory.mktemp("platform")).start()
    yield running
    running.stop()


def _config(gate_config: GateConfig, url: str, secret: bytes = SECRET) -> Config:
    (gate_config.directory / "platform.secret").write_bytes(secret)
    return parse_config(
        gate_config(
            state=gate_config.directory,
            root=gate_config.directory / "root.pub.pem",
            site="s",
            platform={
                "url": url,
                "app_id": APP_ID,
                "app_secret_file": "platform.secret",
                "timeout_ms": 1000,
            },
        )
    )


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


def test_the_probe_number_is_a_valid_number_of_no_division() -> None:
    assert normalise_id(PROBE_ID) == PROBE_ID and PROBE_ID.startswith("000000")


def test_a_healthy_route_passes_every_check(
    gate_config: GateConfig, platform: ReferencePlatform
) -> None:
    results = _by_name(check_platforms(_config(gate_config, platform.url), SystemClock()))
    assert [results[n].status for n in ("platform.reach", "platform.auth", "platform.clock")] == [
        "pass"
    ] * 3
    assert results["platform.tls"].status == "skip"  # plain HTTP on loopback


def test_a_wrong_secret_fails_the_doctor_with_its_cause(
    gate_config: GateConfig, platform: ReferencePlatform
) -> None:
    config = _config(gate_config, platform.url, b"not-the-shared-secret!")
    auth = _by_name(check_platforms(config, SystemClock()))["platform.auth"]
    assert auth.status == "fail" and "HTTP 401" in auth.detail
    assert "platform.app_secret_file" in auth.fix


def test_a_stopped_platform_is_refused(gate_config: GateConfig) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    results = check_platforms(_config(gate_config, url), SystemClock())
    assert [(r.name, r.status) for r in results] == [("platform.reach", "fail")]
    assert "refused" in results[0].detail and "port" in results[0].fix


def test_tls_to_a_plain_http_platform_fails_as_tls(
    gate_config: GateConfig, platform: ReferencePlatform
) -> None:
    https = platform.url.replace("http://", "https://")
    tls = _by_name(check_platforms(_config(gate_config, https), SystemClock()))["platform.tls"]
    assert tls.status == "fail" and tls.detail.split(": ")[1] == "tls"


def test_a_skewed_clock_is_named_as_the_cause(
    gate_config: GateConfig, platform: ReferencePlatform
) -> None:
    results = _by_name(check_platforms(_config(gate_config, platform.url), SkewedClock(400.0)))
    assert results["platform.clock"].status == "fail"
    assert "clock is +40" in results["platform.clock"].detail  # the Date header has whole seconds
    assert "platform.auth" not in results
    warn = _by_name(check_platforms(_config(gate_config, platform.url), SkewedClock(-60.0)))
    assert warn["platform.clock"].status == "warn"
