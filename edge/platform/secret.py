"""The secret a gate shares with its platform: read and judged in one place."""

from __future__ import annotations

from pathlib import Path

from edge.errors import ConfigError

SECRET_MIN_BYTES = 16


def read_platform_secret(path: Path) -> bytes:
    """The request-signing secret in `path`; ConfigError naming the key when it is unusable."""
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(
            [f"platform.app_secret_file: cannot read {path}: {exc.strerror or exc}"]
        ) from exc
    if len(secret) < SECRET_MIN_BYTES:
        raise ConfigError(
            [f"platform.app_secret_file: {path} holds fewer than {SECRET_MIN_BYTES} bytes"]
        )
    return secret
