"""The one exception type for mistakes a user can make (bad spec, missing file, ...).

Its message is a single line that names the input and the fix; the CLI prints it and exits 2
without a traceback. Anything else that escapes is a bug and keeps its traceback.
"""


class CompbenchError(Exception):
    """A user-facing error: one line, names the input and how to fix it."""

    exit_code = 2


class PluginError(CompbenchError):
    """A plugin broke the plugin contract (duplicate name, bad registration)."""
