"""`gate-central command send`: sign, publish, wait for the gate's result and print it."""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt

from central.commands import sign_command
from central.mqtt_link import ToolLink
from edge.wire.topics import GateTopics

EXIT_EXECUTED, EXIT_REFUSED, EXIT_NO_ANSWER = 0, 1, 2


def signed_command(args: argparse.Namespace, key: Any, command_id: str | None = None) -> bytes:
    """The command the options name, signed now (`command sign` and `command send`)."""
    return sign_command(
        key,
        name=args.command,
        site=args.site,
        gate=args.gate,
        now=time.time(),
        ttl_s=args.ttl,
        operator=args.operator,
        command_id=command_id,
        fault=args.fault,
    )


def send(args: argparse.Namespace, key: Any) -> int:
    """Subscribe to the result topic, publish the command, wait up to --wait seconds."""
    topics = GateTopics(args.site, args.gate)
    command_id = str(uuid.uuid4())
    payload = signed_command(args, key, command_id)
    answered = threading.Event()
    result: dict[str, Any] = {}

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            document = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(document, dict) and document.get("command_id") == command_id:
            result.update(document)
            answered.set()

    with ToolLink(args, "command") as link:
        link.client.on_message = on_message
        subscribed = threading.Event()
        link.client.on_subscribe = lambda *_: subscribed.set()
        link.client.subscribe(topics.command_result(command_id), qos=1)
        subscribed.wait(10)
        link.publish(topics.command(args.command), payload)
        answered.wait(args.wait)
    if not answered.is_set():
        print(json.dumps({"command_id": command_id, "outcome": None, "reason": "no answer"}))
        return EXIT_NO_ANSWER
    print(json.dumps(result, ensure_ascii=False))
    return EXIT_EXECUTED if result.get("outcome") == "executed" else EXIT_REFUSED
