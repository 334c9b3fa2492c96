"""The 0.1 import path of :mod:`compbench.contracts.codec`, kept so plugins written against it
still load. New code imports from ``compbench`` itself."""

import sys

from .contracts import codec

sys.modules[__name__] = codec
