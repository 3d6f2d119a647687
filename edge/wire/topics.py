"""MQTT topic names of one gate and of the shared trust subtree."""

from __future__ import annotations

from dataclasses import dataclass

TRUST_LIST_TOPIC = "trust/trust-list"
DENYLIST_TOPIC = "trust/denylist"
COMMAND_NAMES = ("open-once", "reload-config", "refresh-trust", "clear-fault")


@dataclass(frozen=True)
class GateTopics:
    """The topics under gates/{site}/{gate}/."""

    site: str
    gate: str

    @property
    def root(self) -> str:
        """The gate's own subtree, gates/{site}/{gate}."""
        return f"gates/{self.site}/{self.gate}"

    @property
    def events(self) -> str:
        """Where the gate publishes its decision and fault events."""
        return f"{self.root}/events"

    @property
    def status(self) -> str:
        """The gate's retained status (its Last Will says offline)."""
        return f"{self.root}/status"

    @property
    def telemetry(self) -> str:
        """Where the gate publishes its periodic figures."""
        return f"{self.root}/telemetry"

    @property
    def commands(self) -> str:
        """Subscription filter for every command addressed to this gate."""
        return f"{self.root}/cmd/#"

    def command(self, name: str) -> str:
        """Where central sends the command `name` to this gate."""
        return f"{self.root}/cmd/{name}"

    def command_result(self, command_id: str) -> str:
        """Where the gate answers one command."""
        return f"{self.root}/cmd-result/{command_id}"

    def command_name(self, topic: str) -> str | None:
        """The command name a topic addresses, or None if it is not one of ours."""
        prefix = f"{self.root}/cmd/"
        return topic[len(prefix) :] if topic.startswith(prefix) else None
