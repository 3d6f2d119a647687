"""The wire formats gate and central share: MQTT topics, commands, documents, platform API."""
