"""Running codecs over images: spec strings, work units and workers, measuring, progress."""
