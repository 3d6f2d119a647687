"""Low-level pieces shared by credential formats: base45, CBOR, COSE, keys and codec errors."""
