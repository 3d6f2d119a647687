"""The collector: every gate's events, status, telemetry and command results into one store."""
