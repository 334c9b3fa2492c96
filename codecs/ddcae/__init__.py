"""DDCAE: the deep denoising compressive autoencoder of Wani & Selvam, made a real codec.

The paper's fully connected autoencoder (``model``) maps a 28x28 image to 64 values; here they
are quantized with a uniform step (the rate knob) and range coded under per-dimension
histograms fitted on the training codes (``entropy``, ``bitstream``, ``coder``). The weights
file (``weights_file``) ships in ``weights-data/``; ``compbench train ddcae`` rebuilds it (``train``).

This module is what the plugin manager imports: it registers a factory and a trainer and must
stay light. torch is imported by ``coder`` and ``train`` only, when a codec is created or a
training runs.
"""

from __future__ import annotations

from pathlib import Path

from compbench import (
    AVAILABLE,
    Availability,
    Better,
    Codec,
    CodecFactory,
    Metric,
    Param,
    Trainer,
    hookimpl,
    resolve_settings,
)

from .._libraries import first_missing, versions
from . import weights_file

TRAIN_FIX = weights_file.TRAIN_COMMAND
#: what the codec and the trainer need, as (import name, distribution name)
CODEC_LIBRARIES = (("torch", "torch"), ("constriction", "constriction"),
                   ("safetensors", "safetensors"))
TRAINER_LIBRARIES = (("torch", "torch"), ("safetensors", "safetensors"),
                     ("matplotlib", "matplotlib"))
#: the knee of the rate-distortion curve (benchmarks/bench_ddcae.py): 22.5 dB at 0.217 bpp
DEFAULT_STEP = 0.7
#: reported by DdcaeCodec.extra_metrics: the rate an ideal entropy coder would reach
CODE_ENTROPY = Metric(
    "code_entropy", "code entropy", "bits/pixel", Better.LOWER, rate_axis=True, table=False,
    axis="code entropy (bits per pixel)",
    description="ideal code length of the quantized code under the codec's entropy model "
                "(escapes included), per pixel: a bound the range coder's real bpp approaches")


class DdcaeFactory(CodecFactory):
    name = "ddcae"
    description = (
        "Deep denoising compressive autoencoder (Wani & Selvam), MNIST 28x28: fully connected "
        "784-256-128-64 code, uniform quantization, range coding (constriction)"
    )
    params = (
        Param("step", float, DEFAULT_STEP,
              "quantization step of the 64 code values (larger: fewer bits); used within 0.14%",
              low=0.0625, high=16.0),
        Param("weights", str, None,
              "a weights file from `compbench train ddcae --out DIR` (unset: the shipped one); the setting's label names its sha256", file=True),
    )
    rate_params = ("step",)
    preload = ("torch",)  # imported once per run, not once per worker
    #: the paper's model maps 784 gray pixels: MNIST-sized digits only
    sizes = ((28, 28),)
    best_setting = {"step": 0.35}
    ladder = tuple({"step": s} for s in (0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0))
    metrics = (CODE_ENTROPY,)

    def available(self) -> Availability:
        missing = first_missing(CODEC_LIBRARIES)
        if missing:
            return missing
        try:
            weights_file.load(weights_file.DEFAULT_WEIGHTS)  # checks the checksum, not torch
        except weights_file.WeightsError as exc:
            return Availability(False, exc.problem, TRAIN_FIX)
        return AVAILABLE

    def create(self, **settings) -> Codec:
        from .coder import DdcaeCodec  # imports torch

        path = settings.get("weights")
        return DdcaeCodec(weights_file.load(Path(path) if path else weights_file.DEFAULT_WEIGHTS),
                          **settings)

    def library_versions(self) -> dict[str, str]:
        found = versions(CODEC_LIBRARIES)
        try:
            shipped = weights_file.load(weights_file.DEFAULT_WEIGHTS).sha256
        except weights_file.WeightsError:
            shipped = "missing or corrupt"
        found["ddcae weights sha256"] = shipped
        return found


class DdcaeTrainer(Trainer):
    name = "ddcae"
    description = (
        "Denoising training on the MNIST train split (paper: Adam, MSE, Gaussian noise), then "
        "the entropy model fit; writes weights, training-log.csv and loss-curve.png"
    )
    params = (
        Param("epochs", int, 30, "passes over the training images", low=1, high=10_000),
        Param("batch_size", int, 128, "images per Adam step", low=1, high=60_000),
        Param("noise", float, 10.0,
              "std of the Gaussian input noise, in grey levels (0-255 scale)", low=0.0, high=255.0),
        Param("seed", int, 0, "seeds the initial weights, the shuffling and the noise",
              low=0, high=2**32 - 1),
        Param("limit", int, None, "train on the first N training images only (unset: all 60000)",
              low=1, high=60_000),
    )
    default_out = weights_file.WEIGHTS_DIR

    def available(self) -> Availability:
        return first_missing(TRAINER_LIBRARIES) or AVAILABLE

    def train(self, settings, out: Path, log) -> Path:
        from .train import run  # imports torch

        # fill in defaults and check ranges, whether the caller resolved the settings or not
        given = {name: value for name, value in settings.items() if value is not None}
        return run(resolve_settings(self.params, given, f"train {self.name}"), Path(out), log)



@hookimpl
def register_codecs(register):
    register(DdcaeFactory())


@hookimpl
def register_trainers(register):
    register(DdcaeTrainer())
