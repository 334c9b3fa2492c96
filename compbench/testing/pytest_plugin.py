"""pytest plugin: fixtures for plugin authors."""
