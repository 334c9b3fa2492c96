"""``compbench train NAME [options]``: the options come from the trainer's parameters."""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

from ..contracts.errors import CompbenchError
from .arguments import ArgumentParser, HelpFormatter, add_command, examples_text

DESCRIPTION = """\
Train a learned codec's weights with its trainer (a plugin's too). Each trainer has its own
options: compbench train NAME --help. The weights go to a new folder NAME-<time> here unless
--out says otherwise, and a run uses them only when told (--codecs NAME:weights=FILE); each
epoch prints a line as it ends.
"""
EXAMPLES = """\
compbench train ddcae --epochs 30 --seed 0   # as the shipped weights (~2 min)
compbench train convae --dataset fashion-mnist --out weights/convae
compbench train ddcae --help                 # the trainer's options
"""


def add_parser(commands) -> None:
    # no -h of its own: `train NAME --help` is the trainer's help, which only NAME can give
    train = add_command(commands, "train", summary="train a learned codec (its options: compbench train NAME --help)",
                        description=DESCRIPTION, examples=EXAMPLES, add_help=False,
                        usage="%(prog)s NAME [options]")
    train.add_argument("name", nargs="?", metavar="NAME", help="the codec to train, e.g. ddcae (the trainers: "
                       "compbench list)")
    train.set_defaults(handler=functools.partial(main, parser=train))


def main(args, rest, parser: argparse.ArgumentParser | None = None) -> int:
    if parser is not None and (not args.name or args.name.startswith("-")) and {"-h", "--help"} & {args.name, *rest}:
        return print_train_help(parser)
    return run_training(args.name, rest)


def print_train_help(parser: argparse.ArgumentParser) -> int:
    """``compbench train --help``: the command's help and the trainers installed."""
    from ..contracts.registry import build_registry

    print(parser.format_help().rstrip("\n"))
    print(f"\ntrainers installed: {', '.join(sorted(build_registry().trainers)) or '(none)'}")
    return 0


def run_training(name: str | None, argv: list[str]) -> int:
    from ..contracts.registry import build_registry

    registry = build_registry()
    if not name or name.startswith("-"):
        valid = ", ".join(sorted(registry.trainers)) or "(none installed)"
        raise CompbenchError(f"say which codec to train: compbench train NAME; valid: {valid}")
    trainer = registry.trainer(name)
    args = trainer_parser(trainer).parse_args(argv)
    from ..pipeline.checks import require_available  # after --help: it loads the harness
    from ..run.machine import fit_threads_to_cores

    require_available(trainer, f"trainer {name!r}")
    settings = {p.name: getattr(args, p.name) for p in trainer.params}
    out = output_folder(name, args.out, args.overwrite)
    # a line at once: loading torch and the data takes seconds before the first epoch's line
    print(f"training {name} into {out}: " + ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None),
          flush=True)
    fit_threads_to_cores()
    started = time.monotonic()
    weights = trainer.train(settings, out, log=functools.partial(log_line, started=started))
    print(f"weights: {weights} ({time.monotonic() - started:.0f} s)")
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


def log_line(line: str, started: float) -> None:
    """A trainer's progress line (one per epoch), printed as it comes, with the time so far."""
    print(f"[{time.monotonic() - started:6.0f} s] {line}", flush=True)


def trainer_parser(trainer) -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=f"compbench train {trainer.name}", description=trainer.description,
                            epilog=examples_text(trainer_examples(trainer)), formatter_class=HelpFormatter)
    for param in trainer.params:
        flag = "--" + param.name.replace("_", "-")
        if param.kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=param.default,
                                help=param.help)
            continue
        parser.add_argument(flag, dest=param.name, default=param.default, metavar=param.describe_range(),
                            type=lambda text, p=param: p.parse(text, f"compbench train {trainer.name}"),
                            help=param.help + ("" if param.default is None else f" (default: {param.default})"))
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: a new folder "
                        "<codec>-<time> here; a run uses the weights only when told: --codecs NAME:weights=FILE)")
    parser.add_argument("--overwrite", action="store_true", help="replace the files of an --out that holds some "
                        "(needed to replace a codec's shipped weights)")
    return parser


def trainer_examples(trainer) -> str:
    """Two of the trainer's own options at their defaults, and --out: any trainer's example."""
    shown = [p for p in trainer.params if p.default is not None and p.kind is not bool][:2]
    options = " ".join(f"--{p.name.replace('_', '-')} {p.default}" for p in shown)
    return (f"compbench train {trainer.name} {options}".rstrip() + "\n"
            f"compbench train {trainer.name} --out weights/{trainer.name}   # a folder of your own\n")
