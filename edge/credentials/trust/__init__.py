"""Trust anchors shared by credential formats: the signed trust list, denylist and signers."""
