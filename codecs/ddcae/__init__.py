"""DDCAE codec (in progress)."""
