"""Hardware drivers behind small interfaces, each with a real implementation and a fake."""
