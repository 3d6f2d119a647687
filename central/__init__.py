"""The central side of the gates: the collector, the fleet views, trust and command tools, and a
reference health-code platform."""
