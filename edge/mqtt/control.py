"""The control plane: signed commands on gates/{site}/{gate}/cmd/# and retained trust updates."""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.clock import Clock
from edge.errors import CommandError, GateEdgeError, TrustListError
from edge.faults import Fault
from edge.mqtt.settings import MqttSettings
from edge.storage.replay import ReplayGuard
from edge.wire.commands import Command, load_command_key, verify_command
from edge.wire.documents import encode
from edge.wire.results import claimed_command_id, result_document
from edge.wire.topics import DENYLIST_TOPIC, TRUST_LIST_TOPIC, GateTopics

log = logging.getLogger(__name__)

CONTROL_THREAD = "mqtt-control"


class CommandHandler(Protocol):
    """What the gate does for an accepted command."""

    def open_once(self, operator: str, command_id: str) -> None:
        """A manual pass by `operator` (still subject to the temperature check, audited)."""
        ...

    def reload_config(self) -> None:
        """Validate the configuration file again and, when it is valid, apply it."""
        ...

    def refresh_trust(self) -> None:
        """Reload the trust list and denylist, and fetch the retained ones again."""
        ...

    def clear_fault(self, fault: str, command_id: str) -> None:
        """Lift a latched fault that has no automatic way back (e.g. relay_fault)."""
        ...


class TrustUpdater(Protocol):
    """Verifies and installs signed trust documents; returns the installed version."""

    def update_trust_list(self, data: bytes) -> int:
        """Raise TrustListError if the document is bad (the last good one stays)."""
        ...

    def update_denylist(self, data: bytes) -> int:
        """Raise TrustListError if the document is bad (the last good one stays)."""
        ...


class StatusReporter(Protocol):
    """Where problems are reported (the retained status document)."""

    def set_fault(self, name: str, detail: str) -> None:
        """Show the fault `name` with a one-line `detail` until it is cleared."""
        ...

    def clear_fault(self, name: str) -> None:
        """Stop showing the fault `name`; nothing when it is not shown."""
        ...


class Subscriber(Protocol):
    """Anything that delivers MQTT messages for a topic filter and sends the gate's answers
    (the EventPublisher)."""

    def subscribe(self, topic_filter: str, handler: _MessageHandler) -> None:
        """Deliver messages matching `topic_filter` to `handler`, across reconnects."""
        ...

    def resubscribe(self, topic_filter: str) -> bool:
        """Have the broker send a subscribed filter's retained messages again; False if offline."""
        ...

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        """Send now if connected; dropped otherwise."""
        ...


class _MessageHandler(Protocol):
    def __call__(self, topic: str, payload: bytes, *, retain: bool) -> None: ...


_TRUST_FAULTS = {TRUST_LIST_TOPIC: Fault.TRUST_LIST, DENYLIST_TOPIC: Fault.DENYLIST}


class ControlPlane:
    """Verifies commands (signature, addressee, expiry, replay) and trust updates, then acts.

    Messages are handled on one worker thread so the MQTT network loop is never blocked.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        site: str,
        gate: str,
        state_dir: str | Path,
        handler: CommandHandler,
        trust: TrustUpdater,
        status: StatusReporter,
        clock: Clock,
    ) -> None:
        self.topics = GateTopics(site, gate)
        self._settings, self._handler, self._trust, self._status = settings, handler, trust, status
        self._clock = clock
        self._key: ed25519.Ed25519PublicKey | None = None
        self._key_problem = "no command key configured"
        if settings.command_public_key:
            try:
                self._key = load_command_key(settings.command_public_key)
            except CommandError as exc:
                self._key_problem = str(exc)
                status.set_fault(Fault.COMMAND_KEY, str(exc))
        retain_s = settings.command_max_ttl_s + 2 * settings.command_clock_skew_s
        self._replay = ReplayGuard(Path(state_dir) / "commands.db", retain_s)
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._stopped = False
        self._subscriber: Subscriber | None = None
        self.accepted = 0
        self.refused = 0

    def refetch_trust(self) -> bool:
        """Ask the broker for the retained trust list and denylist again (refresh-trust);
        False when not attached or not connected (the next connect delivers them anyway)."""
        if self._subscriber is None:
            return False
        results = [self._subscriber.resubscribe(t) for t in (TRUST_LIST_TOPIC, DENYLIST_TOPIC)]
        return all(results)

    def attach(self, subscriber: Subscriber) -> None:
        """Subscribe to commands and the trust subtree and start handling messages."""
        self._subscriber = subscriber
        self._start_worker()
        for topic_filter in (self.topics.commands, TRUST_LIST_TOPIC, DENYLIST_TOPIC):
            subscriber.subscribe(topic_filter, self._enqueue)

    def stop(self) -> None:
        """Handle the messages already queued (up to 5 s), then stop; close the replay guard."""
        with self._thread_lock:
            self._stopped = True
            thread = self._thread
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout=5)
        self._replay.close()

    def worker_alive(self) -> bool:
        """The thread handling messages runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def revive(self) -> None:
        """Start a fresh message-handling thread if the last one died (not after stop);
        messages that arrived meanwhile wait in the queue and are handled then."""
        if self._subscriber is not None and not self.worker_alive():
            self._start_worker()

    def _start_worker(self) -> None:
        with self._thread_lock:
            if self._stopped:
                return
            self._thread = threading.Thread(target=self._work, name=CONTROL_THREAD, daemon=True)
            self._thread.start()

    def handle(self, topic: str, payload: bytes) -> str:
        """Handle one message synchronously; return what happened (for logs and tests)."""
        if topic in _TRUST_FAULTS:
            return self._handle_trust(topic, payload)
        name = self.topics.command_name(topic)
        if name is None:
            return "ignored"
        try:
            command = self._verify(name, payload)
        except CommandError as exc:
            self.refused += 1
            log.warning("refused command on %s: %s", topic, exc)
            self._answer(claimed_command_id(payload), name, str(exc))
            return f"refused: {exc}"
        self.accepted += 1
        log.info("command %s %s accepted", command.name, command.command_id)
        try:
            self._execute(command)
        except GateEdgeError as exc:
            log.error("command %s %s failed: %s", command.name, command.command_id, exc)
            self._answer(command.command_id, name, f"failed: {exc}")
            return f"failed: {exc}"
        self._answer(command.command_id, name, None)
        return "executed"

    def _answer(self, command_id: str | None, name: str, refusal: str | None) -> None:
        """Publish the result (best effort: a gate that is not connected cannot answer)."""
        if command_id is None or self._subscriber is None:
            return
        document = result_document(
            command_id=command_id,
            command=name,
            site=self.topics.site,
            gate=self.topics.gate,
            executed=refusal is None,
            reason=refusal,
            ts_ms=int(self._clock.now() * 1000),
        )
        try:
            topic = self.topics.command_result(command_id)
            self._subscriber.publish(topic, encode(document), qos=1)
        except GateEdgeError as exc:
            log.warning("result of command %s not sent: %s", command_id, exc)

    def handle_safely(self, topic: str, payload: bytes) -> str:
        """handle(), but an unforeseen error is logged and shown on the status as the fault
        mqtt_control (cleared by the next message handled) instead of propagating: no
        message, however malformed, may stop the control plane."""
        try:
            outcome = self.handle(topic, payload)
        except Exception as exc:
            log.exception("control message on %s failed", topic[:200])
            self._report(
                Fault.MQTT_CONTROL, f"message on {topic[:120]} failed: {type(exc).__name__}"
            )
            return f"failed: {type(exc).__name__}"
        self._report(Fault.MQTT_CONTROL, None)
        return outcome

    def _report(self, fault: str, detail: str | None) -> None:
        try:
            if detail is None:
                self._status.clear_fault(fault)
            else:
                self._status.set_fault(fault, detail)
        except Exception:
            log.exception("control plane fault %s not reported", fault)

    def _verify(self, name: str, payload: bytes) -> Command:
        if self._key is None:
            raise CommandError(self._key_problem)
        now = self._clock.now()
        command = verify_command(
            payload,
            self._key,
            topic_name=name,
            site=self.topics.site,
            gate=self.topics.gate,
            now=now,
            max_ttl_s=self._settings.command_max_ttl_s,
            skew_s=self._settings.command_clock_skew_s,
        )
        if not self._replay.first_use(command.command_id, command.expires_at_ms, int(now * 1000)):
            raise CommandError(f"command {command.command_id} was already used (replay)")
        return command

    def _execute(self, command: Command) -> None:
        if command.name == "open-once":
            assert command.operator is not None
            self._handler.open_once(command.operator, command.command_id)
        elif command.name == "reload-config":
            self._handler.reload_config()
        elif command.name == "clear-fault":
            assert command.fault is not None
            self._handler.clear_fault(command.fault, command.command_id)
        else:
            self._handler.refresh_trust()

    def _handle_trust(self, topic: str, payload: bytes) -> str:
        fault = _TRUST_FAULTS[topic]
        if not payload:
            return "ignored"  # a cleared retained message: keep the last good document
        update = (
            self._trust.update_trust_list
            if topic == TRUST_LIST_TOPIC
            else self._trust.update_denylist
        )
        try:
            version = update(payload)
        except TrustListError as exc:
            log.error("%s update refused: %s", fault, exc)
            self._status.set_fault(fault, f"update refused: {exc}")
            return f"refused: {exc}"
        self._status.clear_fault(fault)
        log.info("%s version %d installed", fault, version)
        return f"installed {version}"

    def _enqueue(self, topic: str, payload: bytes, *, retain: bool) -> None:
        self._queue.put((topic, payload))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self.handle_safely(*item)
