"""`gate-edge verify --config`: judge a code or an ID card exactly as the configured gate would."""

from __future__ import annotations

import argparse
import sys

from edge.app import platform_checker, read_root_key
from edge.clock import SystemClock
from edge.codes.result import VerificationResult
from edge.codes.trust_store import TrustStore
from edge.config import load_config
from edge.errors import TrustListError


def verify_with_config(args: argparse.Namespace) -> VerificationResult:
    """Verify TEXT (or --id-card NUMBER) with the config's trust list and platform."""
    config = load_config(args.config)
    clock = SystemClock()
    trust = TrustStore(
        read_root_key(config),
        config.state_path(config.trust.trust_list),
        config.state_path(config.trust.denylist),
        clock,
        config.trust.clock_skew_s,
    )
    trust.load()
    if trust.problems:
        raise TrustListError("; ".join(trust.problems))
    checker = platform_checker(config, trust.verify, clock)
    try:
        if args.id_card is not None:
            return checker.verify_id(args.id_card)
        text = sys.stdin.read().strip() if args.text == "-" else args.text
        return checker.verify(text)
    finally:
        if checker.client is not None:
            checker.client.close()
