"""convae: a convolutional autoencoder with a learned, fully factorized entropy model.

Each rate point is its own model, trained for rate and distortion together
(``lambda * 255**2 * MSE + bits``, uniform noise in place of rounding) at one lambda: the
transforms (``network``), the integer coding tables derived from the learned prior (``prior``),
a 1-byte header and a range-coded payload (``bitstream``), the codec (``codec``). One weights
file per dataset holds every rate point (``weights_file``, in ``weights-data/``);
``compbench train convae`` rebuilds it (``train``).

This module is what the plugin manager imports: it registers a factory, a trainer and the
``code_entropy`` metric, and must stay light: torch is imported by ``codec`` and ``train`` only,
when a codec is created or a training runs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from compbench import (
    AVAILABLE,
    Availability,
    Codec,
    CodecFactory,
    CompbenchError,
    Metric,
    Param,
    Trainer,
    hookimpl,
)

from .._libraries import first_missing, versions
from . import weights_file
from .bitstream import DATASETS

#: one model per lambda (loss = lambda * 255**2 * MSE + bits per pixel), lowest rate first
LAMBDAS = (0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)
#: 32.3 dB at 0.70 bpp on the MNIST test set (benchmarks/bench_convae.py)
DEFAULT_POINT = 5
#: what the codec and the trainer need, as (import name, distribution name)
CODEC_LIBRARIES = (("torch", "torch"), ("constriction", "constriction"), ("safetensors", "safetensors"))
TRAINER_LIBRARIES = (("torch", "torch"), ("safetensors", "safetensors"), ("matplotlib", "matplotlib"))

# declared as ddcae declares it (label, unit, direction, gating): one metric, whichever codec runs
CODE_ENTROPY = Metric(name="code_entropy", label="code entropy", unit="bits/pixel", better="lower",
                      rate_axis=True, table=False, axis="code entropy (bits per pixel)",
                      description="the ideal code length of the quantized latents under the model's "
                                  "prior; the real bpp adds the header and the range coder's ending")


class ConvaeFactory(CodecFactory):
    name = "convae"
    description = (
        "Convolutional autoencoder, 28x28 gray: 4x4 folding + 3x3 convs to a 32x7x7 latent, learned "
        "factorized prior (a Gaussian mixture per latent element), range coding (constriction); "
        "one trained model per rate point"
    )
    params = (
        Param("point", int, DEFAULT_POINT,
              f"rate point, one model each: 0 is the lowest rate (lambda {LAMBDAS[0]:g}; MNIST test: "
              f"17.4 dB at 0.058 bpp), {len(LAMBDAS) - 1} the highest (lambda {LAMBDAS[-1]:g}; "
              "37.5 dB at 1.26 bpp)", low=0, high=len(LAMBDAS) - 1),
        Param("dataset", str, "mnist", "which shipped weights: trained on MNIST or Fashion-MNIST",
              choices=DATASETS),
        Param("weights", str, None,
              "a weights file from `compbench train convae --out DIR` (unset: the shipped one); the setting's label names its sha256", file=True),
    )
    rate_params = ("point",)
    preload = ("torch",)  # imported once per run, not once per worker
    ladder = tuple({"point": k} for k in range(len(LAMBDAS)))
    channels = (1,)
    sizes = ((28, 28),)
    metrics = (CODE_ENTROPY,)

    def available(self) -> Availability:
        missing = first_missing(CODEC_LIBRARIES)
        if missing:
            return missing
        for dataset in DATASETS:
            try:
                shipped_weights(dataset)  # checks the checksum, not torch
            except weights_file.WeightsError as exc:
                return Availability(False, exc.problem, f"{weights_file.TRAIN_COMMAND} --dataset {dataset}")
        return AVAILABLE

    def validate(self, settings: dict) -> None:
        if settings.get("weights"):
            loaded = weights_file.load(Path(settings["weights"]))
            if loaded.dataset != settings["dataset"]:
                raise CompbenchError(f"convae: weights file {settings['weights']} holds {loaded.dataset} "
                                     f"weights; pass dataset={loaded.dataset}")

    def create(self, **settings) -> Codec:
        from .codec import ConvaeCodec  # imports torch

        self.validate(settings)
        path = settings.get("weights")
        weights = weights_file.load(Path(path)) if path else shipped_weights(settings["dataset"])
        if len(weights.points) != len(LAMBDAS):
            raise CompbenchError(f"convae: weights file {weights.path} has {len(weights.points)} rate "
                                 f"points, this codec {len(LAMBDAS)}; retrain it")
        return ConvaeCodec(weights, shipped_weights, **settings)

    def library_versions(self) -> dict[str, str]:
        found = versions(CODEC_LIBRARIES)
        for dataset in DATASETS:
            try:
                found[f"convae {dataset} weights sha256"] = shipped_weights(dataset).sha256
            except weights_file.WeightsError:
                found[f"convae {dataset} weights sha256"] = "missing or corrupt"
        return found


@lru_cache(maxsize=len(DATASETS))
def shipped_weights(dataset: str) -> weights_file.Weights:
    """The shipped weights of a dataset, read and verified once per process."""
    return weights_file.load(weights_file.default_path(dataset))


class ConvaeTrainer(Trainer):
    name = "convae"
    description = (
        "Trains every rate point (lambdas " + ", ".join(f"{v:g}" for v in LAMBDAS) + ") on a dataset's "
        "train split: a low- and a high-rate base model, then a fine-tune per lambda, in parallel "
        "processes; writes the weights, training-log.csv and loss-curve.png"
    )
    params = (
        Param("dataset", str, "mnist", "train split to learn from", choices=DATASETS),
        Param("epochs", float, 6.0, "passes over the training images for each base model",
              low=0.001, high=1000),
        Param("finetune_epochs", float, 1.5, "passes per rate point, fine-tuning from its base model",
              low=0.001, high=1000),
        Param("batch_size", int, 32, "images per Adam step", low=1, high=60_000),
        Param("seed", int, 0, "seeds the initial weights, the shuffling and the noise", low=0, high=2**32 - 1),
        Param("limit", int, None, "train on the first N training images only (unset: all)",
              low=1, high=60_000),
        Param("workers", int, 2, "parallel training processes, one torch thread each (the result "
              "does not depend on it)", low=1, high=64),
    )
    default_out = weights_file.WEIGHTS_DIR

    def available(self) -> Availability:
        return first_missing(TRAINER_LIBRARIES) or AVAILABLE

    def train(self, settings, out: Path, log) -> Path:
        from .train import run  # imports torch

        return run(self.resolve(settings), Path(out), log)

    def resolve(self, settings: dict) -> dict:
        """The defaults overlaid with the given (non-None) settings, each checked against its
        range, whether the CLI resolved them already or a caller passes a few."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise CompbenchError(f"train {self.name}: unknown setting {unknown[0]!r}; valid: "
                                 + ", ".join(known))
        resolved = {p.name: p.default for p in self.params}
        for name, value in settings.items():
            if value is not None:
                known[name].check(value, f"train {self.name}")
                resolved[name] = value
        return resolved



@hookimpl
def register_codecs(register):
    register(ConvaeFactory())


@hookimpl
def register_trainers(register):
    register(ConvaeTrainer())
