"""Reading small files named by configuration: regular files only, never more than a cap."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_CONFIG_BYTES = 1024 * 1024
MAX_KEY_BYTES = 1024 * 1024  # keys, secrets and certificates (a CA bundle may hold hundreds)


def read_capped(path: str | Path, max_bytes: int) -> bytes:
    """The content of a regular file of at most `max_bytes`; OSError (with a strerror saying
    why) for anything else: a device such as /dev/zero, a FIFO that would block, a directory,
    or a file that is too large. Opened without blocking, so a FIFO never hangs the reader."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > max_bytes:
            raise OSError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))
        chunks, size = [], 0
        while chunk := os.read(fd, min(65536, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise OSError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def printable(text: str) -> str:
    """A name from a file or the network, safe to print on a terminal: control characters
    (escape sequences among them) shown escaped; line breaks, tabs and the rest as they are."""
    return "".join(
        char if char.isprintable() or char in "\n\t" else char.encode("unicode_escape").decode()
        for char in text
    )
