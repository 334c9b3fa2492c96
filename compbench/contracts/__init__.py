"""The plugin contracts: codecs, datasets, trainers, metrics, parameters, hooks, errors, and
loading plugins from entry points."""
