"""The HCN1 health-code format: issuing, trust lists and offline verification."""
