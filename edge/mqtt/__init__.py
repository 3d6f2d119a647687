"""Durable events over MQTT and the control plane from central."""
