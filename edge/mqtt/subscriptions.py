"""The control plane's topic subscriptions on the gate's connection, renewed on every connect."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.mqtt.connection import BrokerConnection

log = logging.getLogger("edge.mqtt.publisher")  # one journal name for the gate's MQTT link


class MessageHandler(Protocol):
    """Receives the messages of one subscription, on paho's network thread."""

    def __call__(self, topic: str, payload: bytes, *, retain: bool) -> None:
        """Handle one message; `retain`: the broker kept it and sends it to new subscribers."""
        ...


class Subscriptions:
    """Topic filters (QoS 1) and their handlers; a handler's exception is logged, never lost
    into paho's network thread."""

    def __init__(self, connection: BrokerConnection) -> None:
        self._connection = connection
        self._handlers: dict[str, MessageHandler] = {}
        connection.on_connected(self._renew)

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Receive messages for a filter (QoS 1); renewed after every reconnect."""

        def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            try:
                handler(message.topic, bytes(message.payload), retain=bool(message.retain))
            except Exception:
                log.exception("handler for %s failed", message.topic)

        connection = self._connection
        connection.client.message_callback_add(topic_filter, on_message)
        # Under the lock: either _renew's snapshot includes this filter or we see connected.
        with connection.changed:
            self._handlers[topic_filter] = handler
            connected = connection.connected
        if connected:
            connection.client.subscribe(topic_filter, options=SubscribeOptions(qos=1))

    def resubscribe(self, topic_filter: str) -> bool:
        """Subscribe again to a filter already subscribed, so the broker sends its retained
        messages once more; False when not connected (they come anyway on the next connect)."""
        connection = self._connection
        with connection.changed:
            known = topic_filter in self._handlers
            connected = connection.connected
        if not known or not connected:
            return False
        result = connection.client.subscribe(topic_filter, options=SubscribeOptions(qos=1))
        return result[0] == mqtt.MQTT_ERR_SUCCESS

    def _renew(self, client: mqtt.Client) -> None:
        with self._connection.changed:
            filters = list(self._handlers)
        if filters:
            client.subscribe([(f, SubscribeOptions(qos=1)) for f in filters])
