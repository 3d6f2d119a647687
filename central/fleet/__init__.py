"""The fleet at a glance: one row per gate from the collector's store, as text, JSON or a page."""
