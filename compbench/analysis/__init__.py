"""Analysis of stored results: BD-rate, comparison against a baseline, history across runs."""
