"""Speed of compbench.metrics.measure.image_metrics on an MNIST-sized batch, against a per-image loop.

    python benchmarks/bench_metrics.py [N]

Prints wall and CPU time for all metrics of N (default 10,000) 28x28 images: the fused core
pass (``image_metrics``) and everything a run measures per batch (``MetricSet.measure``: also
MS-SSIM, NaN at this size without importing torch, and plugin metrics, none here); then the
time of the obvious loop over scikit-image per image (timed on a subset, scaled up). Single
core: the module uses numpy element-wise operations only (no BLAS, no threads).

Then the photographs of scikit-image (JPEG quality 30 copies): every core metric per
megapixel, and MS-SSIM as compbench computes it (scipy, float64) against pytorch-msssim itself
in float64 (what compbench called before), both with a worker's allocator settings
(:mod:`compbench.run.allocator`), where PyTorch's float64 convolution paid in page faults.
"""

import statistics
import sys
import time

import numpy as np
from skimage.measure import shannon_entropy
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from compbench.contracts.errors import CompbenchError
from compbench.metrics import CORE
from compbench.metrics.measure import image_metrics


def mnist_like(n: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test digits if the adapter can load them, else random images; JPEG-like copies."""
    try:
        from compbench.contracts.registry import build_registry

        images = build_registry().dataset("mnist").load("test").images
        x = images[np.arange(n) % len(images)]
        source = "MNIST test digits"
    except (ImportError, OSError, CompbenchError) as exc:  # run without the MNIST adapter too
        x = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
        source = f"random images (MNIST unavailable: {exc})"
    noise = np.random.default_rng(1).normal(0, 6, x.shape)
    y = np.clip(np.rint(np.rint(x / 16) * 16 + noise), 0, 255).astype(np.uint8)
    print(f"{n} images {x.shape[1:]}, {source}")
    return x, y


def per_image_loop(x, y) -> None:
    for a, b in zip(x, y, strict=True):
        peak_signal_noise_ratio(a, b, data_range=255)
        structural_similarity(a, b, data_range=255)
        shannon_entropy(b)
        b.mean() / b.std()


def main(n: int = 10_000, repeats: int = 7) -> None:
    x, y = mnist_like(n)
    nbytes = np.full(n, 400)
    image_metrics(x[:100], y[:100], nbytes[:100], 300)  # warm up imports and caches
    walls = {}
    for label, measure in (("image_metrics", image_metrics), ("MetricSet.measure", CORE.measure)):
        wall_times, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            measure(x, y, nbytes, 300)
            wall_times.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        walls[label] = min(wall_times)
        print(f"{label}: wall min {min(wall_times) * 1e3:.0f} ms, median "
              f"{statistics.median(wall_times) * 1e3:.0f} ms; CPU min {min(cpus) * 1e3:.0f} ms "
              f"({min(wall_times) / n * 1e6:.1f} µs per image)")
    print(f"torch imported: {'torch' in sys.modules} (MS-SSIM needs images of 161 px or more)")

    subset = min(n, 1000)
    start = time.perf_counter()
    per_image_loop(x[:subset], y[:subset])
    loop = (time.perf_counter() - start) / subset * n
    print(f"scikit-image loop (psnr, ssim, entropy per image): {loop * 1e3:.0f} ms "
          f"(timed on {subset}); batched is {loop / walls['MetricSet.measure']:.0f}x faster")


def photographs() -> None:
    import io
    import resource

    import skimage.data
    from PIL import Image

    from compbench.metrics.measure import ms_ssim
    from compbench.run.allocator import keep_freed_memory

    keep_freed_memory()  # as in a worker
    names = ("astronaut", "coffee", "chelsea", "rocket", "camera", "page")
    pairs = []
    for name in names:
        x = getattr(skimage.data, name)()
        buffer = io.BytesIO()
        Image.fromarray(x).save(buffer, "JPEG", quality=30)
        pairs.append((x[None], np.asarray(Image.open(io.BytesIO(buffer.getvalue())))[None]))
    megapixels = sum(x.shape[1] * x.shape[2] for x, _ in pairs) / 1e6

    def timed(fn) -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        for x, y in pairs:
            fn(x, y)
        after = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter() - start, after.ru_stime - usage.ru_stime

    timed(lambda x, y: ms_ssim(x, y))  # warm up: scipy's import
    for label, fn in (("core metrics (image_metrics)", lambda x, y: image_metrics(x, y, [1000], 0)),
                      ("ms_ssim (scipy, float64)", lambda x, y: ms_ssim(x, y)),
                      ("pytorch-msssim (float64)", _pytorch_msssim)):
        wall, system = timed(fn)
        print(f"{label}: {wall / megapixels * 1e3:.0f} ms per megapixel, {system:.2f} s of it in the kernel "
              f"({len(pairs)} photographs, {megapixels:.2f} MP)")


def _pytorch_msssim(x: np.ndarray, y: np.ndarray) -> None:
    import torch
    from pytorch_msssim import ms_ssim as reference

    from compbench.metrics.measure import ms_ssim_window

    x, y = (a[..., None] if a.ndim == 3 else a for a in (x, y))
    win = torch.from_numpy(np.tile(ms_ssim_window(), (x.shape[3], 1, 1, 1)))

    def tensor(batch):
        return torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float64))

    with torch.no_grad():
        reference(tensor(x), tensor(y), data_range=255, win=win, size_average=False)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    photographs()
