"""Local durable state that survives restarts and power cuts (besides the event outbox)."""
