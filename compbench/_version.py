"""compbench's version: one source, read by pyproject.toml (setuptools reads this file without
importing compbench) and by every module that records it."""

__version__ = "0.2.0"
