"""Training every rate point: two base models, then one fine-tune per lambda; writes the weights
file, the training log (CSV) and the loss curve.

The plan (``plan``): a low-rate and a high-rate base model train from scratch, then each
lambda's model starts from the base nearer to it and fine-tunes at its own lambda. Jobs of one
stage are independent, so they run in parallel worker processes, one torch thread each
(on this kind of machine one thread per process beats two threads in one process by far).

Reproducible: a job's result depends only on its inputs (seed, lambda, starting weights,
data): one seed drives the initial weights (torch.manual_seed inside fork_rng, so the caller's
global RNG is left alone) and a private torch.Generator per job drives the shuffling and the
noise; deterministic algorithms, one thread. Same seed and machine: the same weights file,
byte for byte, with any number of workers (tested).
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import compbench

from .._training_log import write_csv
from . import weights_file
from .network import ConvAE, state_to_numpy

HIDDEN, LATENT = 64, 32
LEARNING_RATE = 2e-3
#: the prior's parameters learn this much faster than the transforms
PRIOR_LR_FACTOR = 10.0
#: the cosine schedule ends at this fraction of the starting rate
FINAL_LR_FRACTION = 0.05
FINETUNE_LR = 1e-3
#: test images the progress lines and the log are measured on
EVAL_IMAGES = 1000
#: beside the weights file, one per dataset (the shipped folder holds both datasets')
LOG_NAME = "training-log-{dataset}.csv"
PLOT_NAME = "loss-curve-{dataset}.png"
#: how long the run took and under what load: kept out of the weights file, whose bytes
#: depend only on the seed and the data
TIMING_NAME = "training-time-{dataset}.json"


@dataclass(frozen=True)
class Job:
    name: str  # "base-low", "point-3", ...
    lmbda: float
    epochs: float
    lr: float
    seed: int
    dataset: str
    limit: int | None
    batch_size: int
    start: str | None = None  # the job whose weights this one starts from (None: fresh)


@dataclass(frozen=True)
class Row:
    job: str
    lmbda: float
    epoch: float  # passes over the training images within the job (0: its starting weights)
    steps: int
    train_loss: float  # mean over the steps since the last row; nan at epoch 0
    train_bpp: float  # the noisy latents' rate under the prior
    test_bpp: float  # rounded latents on the first EVAL_IMAGES test images, under the prior
    test_psnr: float  # mean per-image PSNR of their clipped, rounded reconstructions
    seconds: float  # wall time since the job started
    cpu_seconds: float  # the job's process CPU time since it started


@dataclass
class Result:
    job: Job
    state: dict[str, np.ndarray]
    rows: list[Row] = field(default_factory=list)


def plan(settings: dict, lambdas: tuple[float, ...]) -> list[list[Job]]:
    """Stage 1: the two bases, at the lambdas a quarter and three quarters up the ladder;
    stage 2: one fine-tune per lambda from the nearer base (by ladder position, ties to the
    low one), lowest lambda first."""
    low_index, high_index = len(lambdas) // 4, (3 * len(lambdas)) // 4
    low, high = lambdas[low_index], lambdas[high_index]
    common = {"seed": settings["seed"], "dataset": settings["dataset"], "limit": settings["limit"],
              "batch_size": settings["batch_size"]}
    bases = [Job("base-low", low, settings["epochs"], LEARNING_RATE, **common),
             Job("base-high", high, settings["epochs"], LEARNING_RATE, **common)]
    nearer = [bases[0].name if k - low_index <= high_index - k else bases[1].name for k in range(len(lambdas))]
    tunes = [Job(f"point-{k}", v, settings["finetune_epochs"], FINETUNE_LR, start=nearer[k], **common)
             for k, v in enumerate(lambdas)]
    return [bases, tunes]


def run(settings: dict, out: Path, log: Callable[[str], None]) -> Path:
    from . import LAMBDAS

    started, cpu_started, children_started = time.perf_counter(), time.process_time(), _children_cpu()
    load_started = os.getloadavg()[0]
    workers = settings["workers"]
    log(f"training {len(LAMBDAS)} rate points on {settings['dataset']} with {workers} worker "
        f"process(es): two base models of {settings['epochs']:g} epochs, then "
        f"{settings['finetune_epochs']:g} epochs per lambda")
    results: dict[str, Result] = {}
    with _stage_runner(workers, log) as run_stage:
        for stage in plan(settings, LAMBDAS):
            inputs = [(job, results[job.start].state if job.start else None) for job in stage]
            for result in run_stage(inputs):
                results[result.job.name] = result
    points = [results[f"point-{k}"] for k in range(len(LAMBDAS))]
    wall = time.perf_counter() - started
    # this process and every worker it started and joined (their imports and data loading too)
    cpu = time.process_time() - cpu_started + _children_cpu() - children_started
    config = {
        # the worker count does not change the weights, so it stays out of their file
        "trainer": {name: value for name, value in settings.items() if name != "workers"},
        "dataset": f"{settings['dataset']}/train",
        "train_images": _train_images(settings),
        "architecture": f"4x4 fold, 3x3 convs {HIDDEN} wide, {LATENT}x7x7 latent, linear paths, "
                        "3-Gaussian mixture prior per element",
        "optimizer": f"Adam lr {LEARNING_RATE:g} (prior x{PRIOR_LR_FACTOR:g}), fine-tunes {FINETUNE_LR:g}, "
                     f"cosine to {FINAL_LR_FRACTION:g}",
        "loss": "lambda * 255**2 * MSE ([0, 1] scale, reconstruction clipped) + bits per pixel, "
                "uniform noise in place of rounding",
        "torch": torch.__version__,
        "torch_threads_per_job": 1,
        "points": [{"lambda": p.job.lmbda, "test_bpp": round(p.rows[-1].test_bpp, 4),
                    "test_psnr": round(p.rows[-1].test_psnr, 3)} for p in points],
    }
    out.mkdir(parents=True, exist_ok=True)
    path = weights_file.default_path(settings["dataset"]).name
    weights_file.save(out / path, settings["dataset"], HIDDEN, LATENT,
                      [(p.job.lmbda, p.state) for p in points], config)
    timing = {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "workers": workers,
              "cpus": os.cpu_count(),
              # the machine is shared: the 1-minute load average at the start and at the end
              "load_average": [round(load_started, 2), round(os.getloadavg()[0], 2)]}
    (out / TIMING_NAME.format(dataset=settings["dataset"])).write_text(json.dumps(timing, indent=1) + "\n")
    rows = [row for result in results.values() for row in result.rows]
    write_csv(out / LOG_NAME.format(dataset=settings["dataset"]), rows)
    _plot(out / PLOT_NAME.format(dataset=settings["dataset"]), results, settings)
    log(f"done in {wall:.0f} s wall, {cpu:.0f} s CPU")
    return out / path


@contextlib.contextmanager
def _stage_runner(workers: int, log) -> Iterator[Callable[[list[tuple[Job, dict | None]]], list[Result]]]:
    """A function that runs one stage's jobs: in this process (workers=1), or on one pool of
    processes kept for every stage (each imports PyTorch once, not once per stage); progress
    lines arrive through a queue as each epoch ends."""
    if workers <= 1:
        yield lambda inputs: [train_job(job, state, log) for job, state in inputs]
        return
    context = multiprocessing.get_context("spawn")  # fork after torch's thread pools is unsafe
    with context.Manager() as manager, ProcessPoolExecutor(workers, mp_context=context) as pool:
        queue = manager.Queue()

        def run_stage(inputs: list[tuple[Job, dict | None]]) -> list[Result]:
            futures = [pool.submit(train_job, job, state, queue.put) for job, state in inputs]
            while not all(f.done() for f in futures):
                _drain(queue, log, timeout=0.5)
            _drain(queue, log, timeout=0)
            return [f.result() for f in futures]

        yield run_stage


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _drain(queue, log, timeout: float) -> None:
    import queue as queue_module

    try:
        while True:
            log(queue.get(timeout=timeout) if timeout else queue.get_nowait())
    except queue_module.Empty:
        pass


def train_job(job: Job, state: dict[str, np.ndarray] | None, log: Callable[[str], None]) -> Result:
    """One model at one lambda, from fresh weights or ``state``; deterministic for its inputs."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        return _train(job, state, log)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(job: Job, state: dict[str, np.ndarray] | None, log: Callable[[str], None]) -> Result:
    started, cpu_started = time.perf_counter(), time.process_time()
    x_train = _images(job.dataset, "train", job.limit)
    x_test = _images(job.dataset, "test", EVAL_IMAGES)
    # a job's seed mixes the run's seed and its lambda: the two bases start differently
    seed = (job.seed * 1_000_003 + round(job.lmbda * 1e6)) % 2**63
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ConvAE(HIDDEN, LATENT)
    if state is not None:
        model.load_state_dict({name: torch.from_numpy(a) for name, a in state.items()})
    generator = torch.Generator().manual_seed(seed)
    prior = [p for name, p in model.named_parameters() if name.startswith("prior_")]
    transforms = [p for name, p in model.named_parameters() if not name.startswith("prior_")]
    optimizer = torch.optim.Adam([{"params": transforms, "factor": 1.0},
                                  {"params": prior, "factor": PRIOR_LR_FACTOR}], lr=job.lr)
    per_epoch = max(1, math.ceil(len(x_train) / job.batch_size))
    total = max(1, round(job.epochs * per_epoch))
    result = Result(job, {})

    def record(step: int, losses: list[float], bpps: list[float]) -> None:
        test_bpp, test_psnr = _evaluate(model, x_test)
        row = Row(job.name, job.lmbda, round(step / per_epoch, 4), step,
                  float(np.mean(losses)) if losses else math.nan,
                  float(np.mean(bpps)) if bpps else math.nan, test_bpp, test_psnr,
                  time.perf_counter() - started, time.process_time() - cpu_started)
        result.rows.append(row)
        if step:
            log(f"{job.name} (lambda {job.lmbda:g}): epoch {row.epoch:.3g}/{job.epochs:g}: train loss "
                f"{row.train_loss:.4f}, test {row.test_bpp:.3f} bpp {row.test_psnr:.2f} dB "
                f"({row.seconds:.0f} s)")

    record(0, [], [])
    step, losses, bpps = 0, [], []
    model.train()
    while step < total:
        for batch in torch.randperm(len(x_train), generator=generator).split(job.batch_size):
            if step == total:
                break
            progress = step / total
            for group in optimizer.param_groups:
                cosine = 0.5 * (1 + math.cos(math.pi * progress))
                group["lr"] = group["factor"] * job.lr * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * cosine)
            x = x_train[batch]
            reconstruction, bits = model(x, generator)
            mse = (reconstruction - x).square().flatten(1).mean(dim=1)
            bpp = bits / x[0].numel()
            loss = (job.lmbda * 255**2 * mse + bpp).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            losses.append(loss.item())
            bpps.append(bpp.mean().item())
            if step % per_epoch == 0 or step == total:
                record(step, losses, bpps)
                losses, bpps = [], []
                model.train()
    result.state.update(state_to_numpy(model))
    return result


def _images(dataset: str, split: str, limit: int | None) -> torch.Tensor:
    source = compbench.load_dataset(dataset, split)
    count = len(source.labels) if limit is None else min(limit, len(source.labels))
    images = np.stack(source.read(range(count)))
    return torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)


def _train_images(settings: dict) -> int:
    total = len(compbench.load_dataset(settings["dataset"], "train").labels)
    return total if settings["limit"] is None else min(settings["limit"], total)


def _evaluate(model: ConvAE, x: torch.Tensor) -> tuple[float, float]:
    """Rate of the rounded latents under the training prior (bpp) and mean per-image PSNR of
    the clipped, rounded reconstructions, as the codec would measure them (up to the integer
    tables' rounding)."""
    model.eval()
    with torch.no_grad():
        y = model.encode(x)
        means, _, weights = model.mixture()
        offset = torch.gather(means, 0, weights.argmax(dim=0, keepdim=True))[0]
        y_hat = torch.round(y - offset) + offset
        bpp = model.bits(y_hat).mean().item() / x[0].numel()
        pixels = torch.round(model.decode(y_hat).clamp(0, 1) * 255)
        error = (pixels - torch.round(x * 255)).square().flatten(1).mean(dim=1)
        psnr = 10 * torch.log10(255.0**2 / error.clamp_min(1e-10))
    return bpp, psnr.mean().item()



def _plot(path: Path, results: dict[str, Result], settings: dict) -> None:
    """Training loss against epochs, one line per job; a fine-tune continues its base's line."""
    series = {}
    for result in results.values():
        offset = results[result.job.start].rows[-1].epoch if result.job.start else 0.0
        rows = [r for r in result.rows if r.steps]
        label = f"{result.job.name} (lambda {result.job.lmbda:g})"
        series[label] = ([offset + r.epoch for r in rows], [r.train_loss for r in rows])
    compbench.line_chart(path, series, xlabel="epoch (fine-tunes continue their base)",
                         ylabel="loss: lambda * 255^2 * MSE + bpp", log_y=True,
                         title=f"convae training on {settings['dataset']} (batch {settings['batch_size']}, "
                               f"seed {settings['seed']})")
