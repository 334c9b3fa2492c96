"""The regression gate's options and its one comparison, shared by ``compare`` and ``run
--baseline``."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from ..store.files import write_atomic
from ..store.lock import locked


def add_tolerance_options(parser) -> None:
    parser.add_argument("--tolerance", action="append", default=[], metavar="METRIC=VALUE",
                        help="allowed move the wrong way: psnr=0.05 (absolute) or bpp=1%% (relative); "
                             "repeatable; overrides the config file")
    parser.add_argument("--config", type=Path, help="tolerance config (default: compbench.toml or "
                        "[tool.compbench.compare] in pyproject.toml, found from the current folder up)")
    parser.add_argument("--metrics", help="compare and gate only these metrics (comma-separated)")
    parser.add_argument("--include-timings", action="store_true", help="gate encode/decode times too")


def run_comparison(baseline: Path, new: Path, args, default_out: Path | None) -> int:
    """Compare, print the table, write Markdown and JSON; the exit code (0 pass, 1 regression)."""
    from ..analysis.compare import compare, exit_code
    from ..analysis.tolerances import discover_config, load_tolerances, parse_tolerance_flag
    from ..present.comparison import comparison_json, comparison_markdown, comparison_text

    config = args.config or discover_config()
    tolerances = load_tolerances(config) if config else {}
    tolerances.update(dict(parse_tolerance_flag(text) for text in args.tolerance))
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    comparison = compare(baseline, new, tolerances, metrics, args.include_timings)
    markdown = getattr(args, "markdown", None) or (default_out / "comparison.md" if default_out else None)
    as_json = getattr(args, "json", None) or (default_out / "comparison.json" if default_out else None)
    # the verdict is printed only once its files are written: a write that fails is exit 2, no PASS
    into_run = default_out is not None and any(p is not None and p.parent == default_out for p in (markdown, as_json))
    fix = "write the comparison elsewhere with --markdown PATH --json PATH"
    with locked(default_out, fix) if into_run else nullcontext():  # a results folder takes one writer
        for path, text in ((markdown, comparison_markdown(comparison)), (as_json, comparison_json(comparison))):
            if path is not None:
                write_atomic(path, text, fix=fix)
    print(comparison_text(comparison))
    return exit_code(comparison)
