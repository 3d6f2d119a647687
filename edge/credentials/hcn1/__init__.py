"""The HCN1 health-code format as a credential provider; trust lives in edge.credentials.trust."""
