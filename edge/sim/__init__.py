"""Synthetic inputs for demos, tests and benchmarks (generated camera frames)."""
