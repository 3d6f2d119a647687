"""One deadline over name resolution, connect, headers and body: however a platform (or anything
between) trickles, stalls, cuts off or sends interim responses, a decision arrives within the
budget plus 100 ms, and it is never a pass from an answer that did not arrive whole."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.clock import SystemClock
from edge.credentials.result import VerificationResult
from edge.platform.client import PlatformClient
from edge.platform.transport import Resolve
from edge.platform.verifier import CredentialChecker
from tests.hostile_http import HostilePlatform, Shape
from tests.platform_support import SECRET, resident_id
from tests.platform_support import settings as platform_settings

BUDGET_MS = 300
SLACK_S = 0.1
HOLDER = resident_id("11010519491231002")


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostilePlatform]:
    platform = HostilePlatform(SECRET)
    yield platform
    platform.close()


def _checker(url: str, resolve: Resolve | None = None) -> CredentialChecker:
    config = platform_settings(url, timeout_ms=BUDGET_MS, fallback="deny")
    extra = {} if resolve is None else {"resolve": resolve}
    client = PlatformClient(config, SECRET, "t/g", SystemClock(), breaker_threshold=1000, **extra)  # type: ignore[arg-type]
    return CredentialChecker(config, client, b"gate-reference-key")


def _timed(checker: CredentialChecker) -> tuple[VerificationResult, float]:
    began = time.monotonic()
    try:
        return checker.verify_id(HOLDER), time.monotonic() - began
    finally:
        assert checker.client is not None
        checker.client.close()


@pytest.mark.parametrize(
    "shape",
    [
        Shape("trickle", pause_s=0.05),  # headers at 20 bytes/s
        Shape("interim", pause_s=0.05, count=1000),  # 102 Processing, forever
        Shape("stall", count=10),  # headers, then the body stops
        Shape("delay", pause_s=2.0),  # silence after the request
    ],
    ids=["trickle", "interim", "stall", "silence"],
)
def test_each_slow_shape_is_decided_within_the_budget(
    hostile: HostilePlatform, shape: Shape
) -> None:
    hostile.shape = shape
    result, elapsed = _timed(_checker(hostile.url))
    assert not result.valid and result.reason == "platform_unavailable"
    assert result.platform_cause is not None and result.platform_cause.startswith("timeout")
    assert elapsed <= BUDGET_MS / 1000 + SLACK_S, f"{elapsed:.3f} s"


def test_a_cut_off_answer_is_no_answer(hostile: HostilePlatform) -> None:
    hostile.shape = Shape("truncate", count=20)
    result, _ = _timed(_checker(hostile.url))
    assert not result.valid and result.reason == "platform_unavailable"


def test_an_honest_answer_in_time_is_taken(hostile: HostilePlatform) -> None:
    hostile.shape = Shape("interim", pause_s=0.0, count=3)
    result, _ = _timed(_checker(hostile.url))
    assert (result.valid, result.colour, result.issuer) == (True, "green", "CN-HOSTILE")


def test_the_gate_asks_for_identity_encoding_and_never_inflates_an_answer(
    hostile: HostilePlatform,
) -> None:
    hostile.shape = Shape("gzip", count=4 * 1024 * 1024)  # 4 KiB on the wire, 4 MiB inflated
    result, _ = _timed(_checker(hostile.url))
    assert hostile.request_headers[-1].get("accept-encoding") == "identity"
    assert not result.valid and result.reason == "platform_untrusted"
    assert result.platform_cause is not None and "gzip" in result.platform_cause


def test_a_resolver_that_never_answers_is_abandoned_at_the_deadline() -> None:
    release = threading.Event()

    def never(host: str, port: int) -> list[str]:
        release.wait(10)
        return []

    try:
        result, elapsed = _timed(_checker("http://platform.example.invalid:8080", never))
    finally:
        release.set()
    assert result.reason == "platform_unavailable"
    assert result.platform_cause is not None and result.platform_cause.startswith("dns")
    assert elapsed <= BUDGET_MS / 1000 + SLACK_S, f"{elapsed:.3f} s"


_SHAPES = st.one_of(
    st.builds(Shape, st.just("delay"), st.floats(0.0, 0.5)),
    st.builds(Shape, st.just("trickle"), st.floats(0.0, 0.05)),
    st.builds(Shape, st.just("interim"), st.floats(0.0, 0.1), st.integers(0, 50)),
    st.builds(Shape, st.just("stall"), st.just(0.0), st.integers(0, 200)),
    st.builds(Shape, st.just("truncate"), st.just(0.0), st.integers(0, 200)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=_SHAPES)
def test_no_decision_exceeds_the_budget_whatever_the_platform_does(
    hostile: HostilePlatform, shape: Shape
) -> None:
    hostile.shape = shape
    result, elapsed = _timed(_checker(hostile.url))
    assert elapsed <= BUDGET_MS / 1000 + SLACK_S, f"{shape}: {elapsed:.3f} s"
    if result.valid:  # only a whole, signed answer passes
        assert shape.kind in ("delay", "trickle", "interim")
    else:
        assert result.platform_cause
