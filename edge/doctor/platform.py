"""The doctor's platform check: each route reachable, TLS, gate authorised, clocks close."""

from __future__ import annotations

from edge.app.config import Config
from edge.app.verification import read_gate_platform_secret
from edge.clock import Clock
from edge.doctor.report import CheckResult, failed, passed, skipped, warned
from edge.errors import ConfigError
from edge.platform.client import PlatformClient, RouteProbe
from edge.wire.idcard import check_character
from edge.wire.platform import TS_WINDOW_S

SKEW_WARN_S = 30.0
PROBE_BODY = "00000019700101000"
PROBE_ID = PROBE_BODY + check_character(PROBE_BODY)
"""The number the doctor asks about: division 000000 belongs to no one (the answer is
not_found), so no holder's record is looked up."""
_CREDENTIALS_FIX = (
    "compare platform.app_id and the secret in platform.app_secret_file with the platform's "
    "registration (gate-central platform app --app-id ID --secret-file FILE)"
)


def check_platforms(config: Config, clock: Clock) -> list[CheckResult]:
    """For every platform route: reachable, TLS, authorised (both ways), clock skew."""
    settings = config.platform
    if not settings.enabled:
        return [skipped("platform", "no [platform] url or routes: every code is judged offline")]
    try:
        secret = read_gate_platform_secret(config)
    except ConfigError as exc:
        return [failed("platform.auth", "; ".join(exc.problems), _CREDENTIALS_FIX)]
    urls = sorted({settings.url, *(route.url for route in settings.routes)} - {""})
    client = PlatformClient(
        settings, secret, f"{config.gate.site}/{config.gate.gate}", clock, breaker_threshold=1000
    )
    try:
        results: list[CheckResult] = []
        for url in urls:
            results += judge_route(client.probe(url, PROBE_ID), clock.now(), settings.timeout_ms)
        return results
    finally:
        client.close()


def judge_route(probe: RouteProbe, now: float, timeout_ms: int) -> list[CheckResult]:
    """The four results of one route, each failure with its cause and a fix."""
    url, cause = probe.url, f"{probe.failure}: {probe.cause}"
    tls = url.startswith("https://")
    if probe.failure in ("dns", "refused", "unreachable", "timeout"):
        fix = {
            "dns": "check the host name in the URL and the gate's DNS (resolvectl status)",
            "refused": "nothing listens there: check the URL's port and that the platform runs",
            "timeout": f"no answer within platform.timeout_ms ({timeout_ms} ms): check the "
            "network path (firewall, proxy) and the platform's load",
        }.get(str(probe.failure), "check the network path to the platform")
        return [failed("platform.reach", f"{url}: {cause}", fix)]
    results = [passed("platform.reach", f"{url}: answers")]
    if probe.failure == "tls":
        return [
            *results,
            failed(
                "platform.tls",
                f"{url}: {cause}",
                "the platform's certificate must chain to a CA the gate trusts and name the "
                "URL's host; check the URL and the gate's clock",
            ),
        ]
    results.append(
        passed("platform.tls", f"{url}: certificate verified")
        if tls
        else skipped("platform.tls", f"{url}: plain HTTP (answers are signed, not encrypted)")
    )
    if probe.answer is None:
        stale = probe.server_time is not None and abs(now - probe.server_time) > TS_WINDOW_S
        if probe.status == 401 and stale:
            return [*results, _clock(url, probe.server_time, now)]
        if probe.status == 401 or probe.failure == "bad_signature":
            return [*results, failed("platform.auth", f"{url}: {cause}", _CREDENTIALS_FIX)]
        return [
            *results,
            failed("platform.auth", f"{url}: {cause}", "see the platform's log for this request"),
        ]
    results.append(passed("platform.auth", f"{url}: signed answer for app_id verified"))
    return [*results, _clock(url, probe.server_time, now)]


def _clock(url: str, server_time: float | None, now: float) -> CheckResult:
    if server_time is None:
        return skipped("platform.clock", f"{url}: the platform sends no Date header")
    skew = now - server_time
    detail = f"{url}: the gate's clock is {skew:+.0f} s from the platform's"
    fix = "synchronise the gate's clock (timedatectl status; an NTP server it can reach)"
    if abs(skew) > TS_WINDOW_S:
        return failed("platform.clock", f"{detail}: every request is refused as stale", fix)
    if abs(skew) > SKEW_WARN_S:
        return warned("platform.clock", detail, fix)
    return passed("platform.clock", detail)
