"""``compbench train pca``: fit the basis on the MNIST train split, through compbench's own
dataset loading (``compbench.load_dataset``), the way any plugin gets training data."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from compbench import Param, Trainer, load_dataset

from . import basis as basis_file


class PcaTrainer(Trainer):
    name = "pca"
    description = "Fit the PCA basis on the MNIST train split (numpy SVD; reproducible byte for byte)"
    params = (
        Param("components", int, 64, "components to keep", low=1, high=64),
        Param("limit", int, None, "fit on the first N training images only (unset: all 60000)",
              low=1, high=60_000),
    )
    default_out = Path("pca-basis")

    def train(self, settings: dict, out: Path, log: Callable[[str], None]) -> Path:
        settings = {**{p.name: p.default for p in self.params}, **settings}
        source = load_dataset("mnist", "train")
        count = min(settings["limit"] or len(source), len(source))
        images = np.stack(source.read(range(count)))
        log(f"fitting {settings['components']} components on {count} MNIST training images")
        start = time.perf_counter()
        basis = basis_file.fit(images, settings["components"])
        explained = basis.variance.sum() / np.var(images.reshape(count, -1), axis=0).sum()
        out.mkdir(parents=True, exist_ok=True)
        path = out / basis_file.SHIPPED.name
        digest = basis.save(path)
        log(f"{time.perf_counter() - start:.1f} s; the components explain {explained:.1%} of the "
            f"pixel variance; {path} sha256 {digest}")
        return path
