"""The gate's durable stores, each recorded in the lifecycle as soon as it is open."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from edge.app.config import Config
from edge.clock import Clock
from edge.service.lifecycle import Lifecycle
from edge.storage.decision_log import DECISIONS_FILE, DecisionLog
from edge.storage.outbox import Outbox
from edge.storage.passback_db import DurablePassbackLedger

log = logging.getLogger(__name__)

_DAY_S = 86400.0


@dataclass(frozen=True)
class GateStores:
    """The anti-passback ledger, the local decision log and the event outbox."""

    passback: DurablePassbackLedger
    decisions: DecisionLog
    outbox: Outbox


def open_stores(config: Config, state_dir: Path, clock: Clock, lifecycle: Lifecycle) -> GateStores:
    """Open the stores in the state directory; a store that fails to open leaves the ones
    already open recorded in `lifecycle`, to be closed."""
    passback = DurablePassbackLedger(
        state_dir / "passback.db", config.policy.anti_passback_s, clock
    )
    lifecycle.started("anti-passback ledger", passback.close)
    decisions = DecisionLog(state_dir / DECISIONS_FILE)
    lifecycle.started("decisions log", decisions.close)
    outbox = Outbox(
        state_dir / "outbox.db",
        site=config.gate.site,
        gate=config.gate.gate,
        max_events=config.storage.outbox_max_events,
        max_age_s=config.storage.outbox_max_age_days * _DAY_S,
        clock=clock,
    )
    lifecycle.started("outbox", lambda: _close_outbox(outbox))
    return GateStores(passback, decisions, outbox)


def _close_outbox(outbox: Outbox) -> None:
    pending = outbox.depth()
    if pending:
        log.warning("%d event(s) stay in the outbox for the next start", pending)
    outbox.close()
