"""The 0.1 import path of :mod:`compbench.contracts.params`, kept so plugins written against it
still load. New code imports from ``compbench`` itself."""

import sys

from .contracts import params

sys.modules[__name__] = params
