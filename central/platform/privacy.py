"""What the platform keeps of a person: keyed hashes of ID numbers and tokens, masked names."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from central.errors import CentralError

KEY_BYTES = 32


def load_or_create_key(path: Path) -> bytes:
    """The lookup key (kept outside the database, mode 0600); created on first use."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = os.urandom(KEY_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
        except FileExistsError:
            return load_or_create_key(path)
        except OSError as exc:
            raise CentralError(f"cannot create lookup key {path}: {exc.strerror}") from None
        return key
    except OSError as exc:
        raise CentralError(f"cannot read lookup key {path}: {exc.strerror}") from None
    if len(key) < KEY_BYTES:
        raise CentralError(f"lookup key {path} is shorter than {KEY_BYTES} bytes")
    return key


def lookup_key(key: bytes, kind: str, value: str) -> str:
    """The stored form of an ID number or token: HMAC-SHA256 under the lookup key, hex."""
    return hmac.new(key, f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    """Keep the first character (and the last of a long name); mask the rest."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
