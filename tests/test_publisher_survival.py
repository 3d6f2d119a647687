"""The MQTT workers survive unforeseen errors: the dispatcher and the network loop carry on."""

from __future__ import annotations

import json
from pathlib import Path

from edge.clock import SystemClock
from edge.events import GateEvent
from edge.faults import Fault
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.service.supervisor import WorkerSupervisor
from edge.storage.outbox import Outbox, OutboxEntry
from tests.broker import Broker, Subscriber
from tests.waiting import wait_until

EVENTS = "gates/s1/g1/events"


class TroubledOutbox(Outbox):
    """An outbox whose next listing or acknowledgement fails with an unforeseen error."""

    fail_pending = 0
    fail_ack = 0

    def pending(self, after_rowid: int = 0, limit: int = 100) -> list[OutboxEntry]:
        if self.fail_pending:
            self.fail_pending -= 1
            raise RuntimeError("listing bug")
        return super().pending(after_rowid, limit)

    def ack(self, rowid: int) -> None:
        if self.fail_ack:
            self.fail_ack -= 1
            raise RuntimeError("ack bug")
        super().ack(rowid)


def _publisher(tmp_path: Path, broker: Broker) -> tuple[TroubledOutbox, EventPublisher]:
    outbox = TroubledOutbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    settings = MqttSettings(broker=broker.url, reconnect_min_s=0.1, reconnect_max_s=0.5)
    return outbox, EventPublisher(
        settings, site="s1", gate="g1", outbox=outbox, clock=SystemClock()
    )


def _events(sub: Subscriber) -> list[str]:
    return [json.loads(p)["detail"] for t, p, _ in list(sub.messages) if t == EVENTS]


def test_the_dispatcher_reports_an_unforeseen_error_and_keeps_delivering(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    sub = Subscriber(mqtt_broker, EVENTS)
    outbox, publisher = _publisher(tmp_path, mqtt_broker)
    outbox.fail_pending = 1
    outbox.emit(GateEvent(kind="test", detail="one"))
    publisher.start()
    try:
        assert sub.wait_for(lambda m: len(m) >= 1)
        assert publisher.dispatcher_alive()
        outbox.emit(GateEvent(kind="test", detail="two"))
        assert sub.wait_for(lambda m: len(m) >= 2)
        assert _events(sub)[:2] == ["one", "two"]
        assert Fault.MQTT_OUTBOX not in publisher.faults()  # cleared by the next good round
    finally:
        publisher.stop()
        sub.close()


def test_a_failing_callback_does_not_end_the_network_loop(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    sub = Subscriber(mqtt_broker, EVENTS)
    outbox, publisher = _publisher(tmp_path, mqtt_broker)
    supervisor = WorkerSupervisor(publisher)
    supervisor.watch("mqtt-network", publisher.network_alive, publisher.revive)
    outbox.fail_ack = 1
    publisher.start()
    try:
        outbox.emit(GateEvent(kind="test", detail="first"))
        assert sub.wait_for(lambda m: len(m) >= 1)
        outbox.emit(GateEvent(kind="test", detail="second"))
        assert sub.wait_for(lambda m: len(m) >= 2)
        assert publisher.network_alive()
        assert supervisor.check() == []
        assert "on_publish: RuntimeError" in publisher.faults()[Fault.MQTT_NETWORK]
        # The event whose acknowledgement failed stays stored and goes again (at least once);
        # the other is deleted once its PUBACK is handled, which may come after its delivery.
        assert wait_until(lambda: outbox.depth() == 1, 10.0)
    finally:
        publisher.stop()
        sub.close()
