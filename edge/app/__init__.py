"""Composition: the configuration, the device bundle and the gate wired from them."""
