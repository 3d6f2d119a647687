"""The gate: pure decision core and the controller that drives the hardware."""
