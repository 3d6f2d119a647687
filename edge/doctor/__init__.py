"""`gate-edge doctor`: every check a technician needs, in order, each with its cause and fix."""
