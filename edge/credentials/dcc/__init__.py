"""EU Digital COVID Certificates (HC1:) as a credential provider."""
