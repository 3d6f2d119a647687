"""The central side of the gates: a reference health-code platform the gates verify against."""
