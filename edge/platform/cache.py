"""A short cache of trusted platform answers, keyed by a hash of the credential."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

from edge.clock import Clock
from edge.wire.platform import CertType, VerifyAnswer

MAX_CACHE_S = 60.0
MAX_ENTRIES = 1024


class AnswerCache:
    """Keeps each answer for min(ttl_s, MAX_CACHE_S); keys are salted hashes, never raw values."""

    def __init__(self, clock: Clock, max_s: float = MAX_CACHE_S) -> None:
        self._clock = clock
        self._max_s = max_s
        self._salt = os.urandom(16)
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, tuple[float, VerifyAnswer]] = OrderedDict()

    def _key(self, cert_type: CertType, value: str) -> bytes:
        return hashlib.sha256(self._salt + cert_type.encode() + b"\0" + value.encode()).digest()

    def get(self, cert_type: CertType, value: str) -> VerifyAnswer | None:
        """A fresh answer for this credential, or None."""
        key = self._key(cert_type, value)
        now = self._clock.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now >= entry[0]:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, cert_type: CertType, value: str, answer: VerifyAnswer) -> None:
        """Remember an answer for as long as it allows (never longer than the cache bound)."""
        keep_s = min(float(answer.ttl_s), self._max_s)
        if keep_s <= 0:
            return
        key = self._key(cert_type, value)
        with self._lock:
            self._entries[key] = (self._clock.monotonic() + keep_s, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
