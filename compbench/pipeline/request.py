"""What a user asks of a run, as two frozen, keyword-only records: what to measure
(:class:`RunRequest`) and what to leave behind (:class:`OutputOptions`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..defaults import DEFAULT_ANCHOR, DEFAULT_CODECS, DEFAULT_DATASET, DEFAULT_TIMEOUT  # noqa: F401 (api re-exports)


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """The measurement: codecs over a dataset, where and how it runs."""

    #: codec specs, e.g. "jpeg:quality=50,jpeg2000:psnr=30" (ranges and lists expand)
    codecs: str = DEFAULT_CODECS
    #: "name" or "name:key=value..."
    dataset: str = DEFAULT_DATASET
    split: str | None = None
    limit: int | None = None
    per_class: int | None = None
    #: each codec over its default quality ladder unless its rate parameters are given
    sweep: bool = False
    #: optional metrics to measure too (``Metric.optional``)
    metrics_extra: tuple[str, ...] = ()
    #: quality axes of the RD plots and BD tables (default psnr, ssim)
    rd_metrics: tuple[str, ...] | None = None
    #: seconds one image may take in one stage
    timeout: float = DEFAULT_TIMEOUT
    #: workers (default: one per core this process may use: CPU affinity, a container's quota)
    jobs: int | None = None
    executor: str = "local"
    #: with executor "dask": a running scheduler, tcp://HOST:PORT
    scheduler: str | None = None
    #: the command line the manifest records (default: this process's)
    command: str | None = None


@dataclass(frozen=True, kw_only=True)
class OutputOptions:
    """The results: where they go and what is written."""

    #: False: nothing is written; the records stay in memory
    write: bool = True
    #: the results folder (default: results/<time>-<codecs>/)
    out: Path | None = None
    #: continue the run in ``out`` (the same command): images it lacks, and images lost to the
    #: infrastructure, are run
    resume: bool = False
    #: with ``resume``: images that failed or timed out are run again too
    retry_failed: bool = False
    #: replace the run in ``out`` whole
    overwrite: bool = False
    figures: bool = True
    figure_formats: tuple[str, ...] = ("png",)
    #: the codec BD tables compare against (None: jpeg2000 when it ran at two or more settings,
    #: else the first codec that did; one not in the run is refused)
    anchor: str | None = None
    #: published curves to draw and measure beside the run's (CompressAI JSON or CSV files)
    references: tuple[Path, ...] = ()
    #: tabulate format of the extra table file (summary.<ext>) besides summary.md
    table_format: str = "github"
    #: a progress bar on stderr
    progress: bool = False
    #: the paper's Figs. 6 and 8-10: None draws them where the dataset says they belong
    #: (``DatasetAdapter.paper_figures``: MNIST, Fashion-MNIST), True or False always or never
    paper_figures: bool | None = None
    #: what the visual comparisons match, "bpp=0.5" or "psnr=32" (default: the median bpp)
    compare_at: str | None = None
