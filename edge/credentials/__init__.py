"""Credential formats behind one seam: a verifier per text prefix, one format-neutral result."""
