"""`gate-edge verify --config`: judge a code or an ID card exactly as the configured gate would."""

from __future__ import annotations

import argparse
import os
import sys

from edge.app.config import load_config
from edge.app.verification import gate_verifier, platform_checker, trust_store
from edge.clock import SystemClock
from edge.credentials.result import VerificationResult
from edge.errors import TrustListError


def verify_with_config(args: argparse.Namespace) -> VerificationResult:
    """Verify TEXT (or --id-card NUMBER) with the config's trust list and platform."""
    config = load_config(args.config)
    clock = SystemClock()
    # A throwaway reference key: what verify prints cannot be matched to the gate's events.
    checker = platform_checker(config, clock, reference_key=os.urandom(32))
    try:
        if args.id_card is not None:
            return checker.verify_id(args.id_card)
        judged_at = clock if args.at is None else _WallClockAt(args.at)
        trust = trust_store(config, judged_at)
        trust.load()
        if trust.problems:
            raise TrustListError("; ".join(trust.problems))
        text = sys.stdin.read().strip() if args.text == "-" else args.text
        return gate_verifier(config, trust, checker, judged_at).verify(text)
    finally:
        if checker.client is not None:
            checker.client.close()


class _WallClockAt(SystemClock):
    """The system clock with its wall-clock time fixed at `--at` (codes are judged then; the
    platform, asked now, stamps its requests with the real time)."""

    def __init__(self, at: float) -> None:
        self._at = at

    def now(self) -> float:
        return self._at
