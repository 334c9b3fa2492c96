"""A plugin whose import fails, as one does when its library is missing. It would register the
codec ``zoo-unimportable``."""

import compbench_zoo_missing_library  # noqa: F401  (does not exist, on purpose)
