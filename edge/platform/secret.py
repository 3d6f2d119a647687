"""The secret a gate shares with its platform: read and judged in one place."""

from __future__ import annotations

import os
from pathlib import Path

from edge.errors import ConfigError
from edge.readfiles import MAX_KEY_BYTES, read_capped

SECRET_MIN_BYTES = 16
REFERENCE_KEY_BYTES = 32
REFERENCE_KEY_FILE = "platform-reference.key"


def read_platform_secret(path: Path) -> bytes:
    """The request-signing secret in `path`; ConfigError naming the key when it is unusable."""
    try:
        secret = read_capped(path, MAX_KEY_BYTES).strip()
    except OSError as exc:
        raise ConfigError(
            [f"platform.app_secret_file: cannot read {path}: {exc.strerror or exc}"]
        ) from exc
    if len(secret) < SECRET_MIN_BYTES:
        raise ConfigError(
            [f"platform.app_secret_file: {path} holds fewer than {SECRET_MIN_BYTES} bytes"]
        )
    return secret


def load_or_create_reference_key(path: Path) -> bytes:
    """The gate's own random key for references to platform-judged credentials (created on first
    use, mode 0600; it never leaves the gate); ConfigError when it cannot be read or made."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError([f"storage.state_dir: cannot create {path}: {exc.strerror}"]) from exc
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(REFERENCE_KEY_BYTES))
            out.flush()
            os.fsync(out.fileno())
    try:
        key = read_capped(path, MAX_KEY_BYTES)
    except OSError as exc:
        raise ConfigError([f"storage.state_dir: cannot read {path}: {exc.strerror}"]) from exc
    if len(key) != REFERENCE_KEY_BYTES:
        raise ConfigError(
            [f"storage.state_dir: {path} is not a {REFERENCE_KEY_BYTES}-byte reference key"]
        )
    return key
