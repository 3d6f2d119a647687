"""The signed trust material in force at one moment: all that verification reads of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.credentials.trust.trustlist import Denylist, TrustList


@dataclass(frozen=True)
class TrustSnapshot:
    """A trust list (the empty one, which trusts nobody, when none is installed) and the
    denylist, if any. Immutable: an update installs a new snapshot, readers keep theirs."""

    trust_list: TrustList = field(default_factory=TrustList.empty)
    denylist: Denylist | None = None
