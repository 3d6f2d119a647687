"""Anti-passback memory: when each code id and each subject last passed, bounded in size."""

from __future__ import annotations

from typing import Protocol

Key = bytes


class PassbackView(Protocol):
    """What the decision core needs to know about earlier passes."""

    def last_pass(self, code_id: bytes | None, subject_binding: bytes | None) -> float | None:
        """Return the latest pass time (monotonic seconds) of this code id or subject, if any."""
        ...


class PassbackLedger:
    """Pass times keyed by code id and by subject binding (the same person with another code).

    Times are monotonic seconds, so a wall-clock step cannot reopen or extend a window. Entries
    older than `window_s` are pruned on every record; beyond `max_entries` the oldest entries are
    dropped so memory stays bounded however many people pass.
    """

    def __init__(self, window_s: float, max_entries: int = 100_000) -> None:
        if window_s < 0 or max_entries < 2:
            raise ValueError("window_s must be >= 0 and max_entries >= 2")
        self.window_s = window_s
        self.max_entries = max_entries
        self._times: dict[Key, float] = {}  # insertion order == time order (re-inserted on use)

    def __len__(self) -> int:
        return len(self._times)

    def last_pass(self, code_id: bytes | None, subject_binding: bytes | None) -> float | None:
        """Monotonic time this code or its subject last passed, or None when neither did lately."""
        times = [
            self._times[key]
            for key in passback_keys(code_id, subject_binding)
            if key in self._times
        ]
        return max(times) if times else None

    def record(self, code_id: bytes | None, subject_binding: bytes | None, at: float) -> None:
        """Remember that this code (and its subject) passed at monotonic time `at`."""
        for key in passback_keys(code_id, subject_binding):
            self._put(key, at)

    def forget(self, code_id: bytes | None, subject_binding: bytes | None) -> None:
        """Drop the entries of a pass that did not happen (the person did not go through)."""
        for key in passback_keys(code_id, subject_binding):
            self._times.pop(key, None)

    def _put(self, key: Key, at: float) -> None:
        """Add or renew one entry; entries must arrive oldest first (a new pass, or entries
        restored from storage in time order)."""
        self._times.pop(key, None)
        self._times[key] = at
        self._prune(at)

    def clear(self) -> None:
        """Forget every pass."""
        self._times.clear()

    def _prune(self, now: float) -> None:
        horizon = now - self.window_s
        while self._times:
            key, at = next(iter(self._times.items()))
            if at >= horizon and len(self._times) <= self.max_entries:
                break
            del self._times[key]


def passback_keys(code_id: bytes | None, subject_binding: bytes | None) -> list[Key]:
    """The ledger keys of a code id and a subject binding (either may be absent)."""
    keys: list[Key] = []
    if code_id is not None:
        keys.append(b"c" + code_id)
    if subject_binding is not None:
        keys.append(b"s" + subject_binding)
    return keys
