"""Configuration of online verification: platform routes, credentials, budget and fallback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.configschema import setting


def _http_url(value: str) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    return None


def _id_prefix(value: str) -> str | None:
    if not (1 <= len(value) <= 6 and value.isascii() and value.isdigit()):
        return "must be 1-6 digits (a GB/T 2260 division code prefix)"
    return None


def _prefixes(value: list[str]) -> str | None:
    if any(not prefix for prefix in value):
        return "an empty prefix would send every code online"
    return None


@dataclass(frozen=True)
class PlatformRoute:
    """ID numbers starting with `id_prefix` are asked at `url` (their province's platform)."""

    id_prefix: str = setting(check=_id_prefix, doc="First digits of the ID number (e.g. 15).")
    url: str = setting(check=_http_url, doc="Platform asked for those ID numbers.")


@dataclass(frozen=True)
class PlatformSettings:
    """Which credentials are checked online, where, and what happens when no answer comes."""

    url: str = setting(
        "",
        check=_http_url,
        doc="Default platform route; empty and no routes = no online verification.",
    )
    app_id: str = setting("", doc="Application id the platform issued to this gate's operator.")
    app_secret_file: str = setting(
        "",
        doc="File holding the shared request-signing secret; relative paths are inside "
        "storage.state_dir.",
    )
    timeout_ms: int = setting(
        3000,
        minimum=100,
        maximum=30000,
        doc="Whole time budget of one platform check, retries included.",
    )
    fallback: Literal["offline", "deny"] = setting(
        "offline",
        doc="No answer in time: offline = decide an offline-verifiable code offline; deny.",
    )
    code_prefixes: list[str] = setting(  # noqa: RUF009 (setting() is a dataclasses.field)
        default_factory=list,
        check=_prefixes,
        doc="QR texts starting with one of these are checked online; others offline.",
    )
    routes: list[PlatformRoute] = setting(  # noqa: RUF009 (setting() is a dataclasses.field)
        default_factory=list, doc="Routes of ID numbers by prefix (longest match wins)."
    )

    @property
    def enabled(self) -> bool:
        """Whether any platform is configured."""
        return bool(self.url or self.routes)

    def problems(self) -> list[str]:
        """Problems that involve several platform settings."""
        found = []
        if self.enabled and not self.app_id:
            found.append("platform.app_id: required when a platform url or route is set")
        if self.enabled and not self.app_secret_file:
            found.append("platform.app_secret_file: required when a platform url or route is set")
        if self.code_prefixes and not self.url:
            found.append("platform.code_prefixes: QR texts are sent to platform.url; set it")
        prefixes = [route.id_prefix for route in self.routes]
        for prefix in sorted({p for p in prefixes if prefixes.count(p) > 1}):
            found.append(f"platform.routes: id_prefix {prefix!r} is routed more than once")
        return found
