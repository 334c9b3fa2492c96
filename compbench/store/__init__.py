"""Storing results: records, summaries, the results folder and its manifest, and reading them back."""
