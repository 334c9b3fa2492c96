"""A metric plugin: mean absolute error per image (lower is better, gated)."""

import numpy as np

from compbench import Metric, hookimpl


def mean_absolute_error(originals, reconstructions):
    difference = originals.astype(np.int16) - reconstructions.astype(np.int16)
    return np.abs(difference).reshape(len(originals), -1).mean(axis=1)


MAE = Metric(
    "mae", "MAE", "grey levels", better="lower", fmt=".4f", quality_axis=True,
    compute=mean_absolute_error, description="mean |x - y| over all samples",
)


@hookimpl
def register_metrics(register):
    register(MAE)
