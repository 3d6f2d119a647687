"""The service's memory habits: native maths on one thread, two malloc arenas, a trim at start."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

# numpy's OpenBLAS (and OpenCV's own copy) start a worker per core when loaded, each with its own
# buffers and malloc arena; the gate's arrays are a few thumbnails and one frame at a time, which
# one thread handles faster than waking a pool. Read by the libraries when they load, so this
# must run before numpy is first imported.
NATIVE_THREAD_LIMITS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# glibc gives each thread that allocates its own arena (up to 8 per core); the service's dozen
# threads then keep a dozen partly empty heaps. Two arenas hold it all.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter number, glibc <malloc.h>


def limit_native_threads() -> None:
    """Ask numerical libraries loaded from now on for one thread (unless the environment says)."""
    for name, value in NATIVE_THREAD_LIMITS.items():
        os.environ.setdefault(name, value)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    try:
        libc.mallopt, libc.malloc_trim  # noqa: B018  glibc has both; musl and others may not
    except AttributeError:
        return None
    return libc


def limit_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas (before the service starts its threads); False elsewhere."""
    libc = _libc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS))


def trim_heap() -> bool:
    """Hand the heap's free pages back to the system (what start-up built and dropped)."""
    libc = _libc()
    if libc is None:
        return False
    released = bool(libc.malloc_trim(0))
    log.debug("memory: heap trimmed after start-up (released: %s)", released)
    return True
