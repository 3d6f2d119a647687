"""HCN1 health codes, the bounded codecs every format reuses, and the signed trust material."""
