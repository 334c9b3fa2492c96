"""compbench: a plugin-based image-compression benchmark."""

__version__ = "0.1.0"
