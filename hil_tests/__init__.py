"""Hardware-in-the-loop checks; opt-in through GATE_EDGE_HIL_* environment variables."""
