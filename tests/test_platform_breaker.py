"""The circuit breaker and the answer cache, on an injected clock."""

from __future__ import annotations

from edge.clock import FakeClock
from edge.platform.breaker import CircuitBreaker
from edge.platform.cache import AnswerCache
from edge.wire.platform import VerifyAnswer


def _state(breaker: CircuitBreaker) -> str:
    return breaker.state


def test_breaker_opens_at_the_threshold_lets_one_probe_and_recovers() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=3, open_s=30.0)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert _state(breaker) == "closed"
    assert breaker.allow()
    breaker.failure()
    assert (_state(breaker), breaker.allow()) == ("open", False)
    clock.advance(29.9)
    assert not breaker.allow()
    clock.advance(0.2)
    assert _state(breaker) == "half_open"
    assert breaker.allow()  # the one probe
    assert not breaker.allow()  # nobody else while it is out
    breaker.failure()  # the probe failed: open again for the whole time
    assert (_state(breaker), breaker.allow()) == ("open", False)
    clock.advance(30.0)
    assert breaker.allow()
    breaker.success()
    assert (_state(breaker), breaker.allow(), breaker.openings) == ("closed", True, 1)


def test_an_abandoned_probe_lets_the_next_caller_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=1, open_s=5.0)
    breaker.failure()
    clock.advance(5.0)
    assert breaker.allow()
    breaker.abandon()
    assert breaker.allow()


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(FakeClock(), threshold=3)
    for _ in range(10):
        breaker.failure()
        breaker.failure()
        breaker.success()
    assert _state(breaker) == "closed"


def _answer(ttl_s: int) -> VerifyAnswer:
    return VerifyAnswer("green", "CN-150000", None, 0, ttl_s, "00" * 16)


def test_cache_keeps_an_answer_for_its_ttl_and_never_beyond_the_bound() -> None:
    clock = FakeClock()
    cache = AnswerCache(clock, max_s=60.0)
    cache.put("id_card", "A", _answer(10))
    cache.put("id_card", "B", _answer(3600))
    cache.put("id_card", "C", _answer(0))
    assert cache.get("qr_code", "A") is None  # another credential type
    assert cache.get("id_card", "C") is None  # ttl 0: never reused
    clock.advance(9.9)
    assert cache.get("id_card", "A") is not None
    clock.advance(0.2)
    assert cache.get("id_card", "A") is None
    clock.advance(49.8)
    assert cache.get("id_card", "B") is not None
    clock.advance(0.2)
    assert cache.get("id_card", "B") is None  # bounded by the cache, not the platform's ttl
