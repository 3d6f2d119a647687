"""Frames in, decoded and verified codes out."""
