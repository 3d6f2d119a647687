"""`gate-edge verify --config`: judge a code or an ID card exactly as the configured gate would."""

from __future__ import annotations

import argparse
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
    checker = platform_checker(config, clock)
    try:
        if args.id_card is not None:
            return checker.verify_id(args.id_card)
        trust = trust_store(config, clock)
        trust.load()
        if trust.problems:
            raise TrustListError("; ".join(trust.problems))
        text = sys.stdin.read().strip() if args.text == "-" else args.text
        return gate_verifier(config, trust, checker, clock).verify(text)
    finally:
        if checker.client is not None:
            checker.client.close()
