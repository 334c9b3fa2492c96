"""``compbench train NAME [options]``: the options come from the trainer's parameters."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..contracts.errors import CompbenchError
from .arguments import ArgumentParser


def add_parser(commands) -> None:
    train = commands.add_parser("train", help="train a learned codec (options depend on it: compbench train NAME --help)",
                                add_help=False)
    train.add_argument("name", nargs="?", help="the codec to train, e.g. ddcae")
    train.set_defaults(handler=main)


def main(args, rest) -> int:
    return run_training(args.name, rest)


def run_training(name: str | None, argv: list[str]) -> int:
    from ..contracts.registry import build_registry
    from ..pipeline.checks import require_available

    registry = build_registry()
    if not name or name.startswith("-"):
        valid = ", ".join(sorted(registry.trainers)) or "(none installed)"
        raise CompbenchError(f"say which codec to train: compbench train NAME; valid: {valid}")
    trainer = registry.trainer(name)
    parser = _trainer_parser(trainer)
    args = parser.parse_args(argv)
    require_available(trainer, f"trainer {name!r}")
    settings = {p.name: getattr(args, p.name) for p in trainer.params}
    out = output_folder(name, args.out, args.overwrite)
    weights = trainer.train(settings, out, log=lambda line: print(line, flush=True))
    print(f"weights: {weights}")
    print(f"use them with: compbench run --codecs {name}:weights={weights}")
    return 0


def output_folder(name: str, out: Path | None, overwrite: bool) -> Path:
    """Where a training writes: a new folder in the current one (``<name>-<time>``) unless
    ``--out``; never the installed package's weights unless asked for by ``--out`` there and
    ``--overwrite``: runs keep using the shipped weights until told otherwise. A new folder is
    made here and now: trainings started in the same second get ``-2``, ``-3``... (``mkdir``
    either creates it or fails, so no two share one)."""
    if out is None:
        base = Path(f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
        for attempt in range(1, 1000):
            candidate = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                continue
            except OSError as exc:
                raise CompbenchError(f"cannot write to {candidate} ({exc.strerror}); choose a writable folder "
                                     "with --out") from None
        raise CompbenchError(f"cannot find a free folder name beside {base}; give --out")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise CompbenchError(f"--out {out} already holds files (weights?); replace them with --overwrite, or "
                             "choose a new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompbenchError(f"cannot write to {out} ({exc.strerror}); choose a writable folder with --out") from None
    return out


def _trainer_parser(trainer) -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=f"compbench train {trainer.name}", description=trainer.description)
    for param in trainer.params:
        flag = "--" + param.name.replace("_", "-")
        if param.kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=param.default,
                                help=param.help)
            continue
        parser.add_argument(flag, dest=param.name, default=param.default, metavar=param.describe_range(),
                            type=lambda text, p=param: p.parse(text, f"compbench train {trainer.name}"),
                            help=param.help + ("" if param.default is None else f" (default: {param.default})"))
    parser.add_argument("--out", type=Path, help="output folder (default: a new folder <codec>-<time> here; "
                        "a run uses the weights only when told: --codecs NAME:weights=FILE)")
    parser.add_argument("--overwrite", action="store_true", help="replace the files of an --out that holds some "
                        "(needed to replace a codec's shipped weights)")
    return parser
