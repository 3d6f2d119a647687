"""Enrolment of gates: one-use tokens, the device CA with its CRL, the broker ACL."""
