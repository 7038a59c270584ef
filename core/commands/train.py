"""`twb train`: train a classifier headless, printing the tutorial's epoch lines and a report.

Settings come from a preset, then a TOML file, then ``--data``/``--val``, then ``--set``
(later wins). With ``--resume`` the checkpoint's own config is the starting point instead of a
preset. Bad input (missing file, bad ``--set``, invalid config) exits 2 with one line per problem;
a failed run exits 1; Ctrl-C, SIGTERM and SIGHUP save an interrupt checkpoint and exit 128 +
the signal number (130 for Ctrl-C).

Extending (e.g. ``--session NAME`` recording the run): the command is built from two hooks.

- ``ARGUMENT_HOOKS``: callables ``hook(parser)`` run after the built-in options are added; add
  your own options there.
- ``CONSUMER_FACTORIES``: callables ``factory(args, config, out_dir) -> EventCallback | None``;
  ``make_consumers`` calls each and every non-None callback receives every training event,
  after the printer. A consumer must be quick (it runs on the training thread).

A module registers both at import time and is imported before ``core.cli.build_parser`` runs,
or appends to them in ``register`` of its own command module listed earlier in
``core.cli.COMMAND_MODULES``.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Callable

from core import events as ev
from core.config import PRESETS, RunConfig, apply_overrides, check, load_toml, preset, with_field
from core.errors import UserError

ArgumentHook = Callable[[argparse.ArgumentParser], None]
ConsumerFactory = Callable[[argparse.Namespace, RunConfig, Path], "ev.EventCallback | None"]

ARGUMENT_HOOKS: list[ArgumentHook] = []
CONSUMER_FACTORIES: list[ConsumerFactory] = []

EPILOG = """examples:
  twb train                                     the built-in synthetic task (preset 'default')
  twb train --preset nano --quiet               a tiny model, epoch lines and report only
  twb train --data reviews.csv --set train.epochs=5 --set model.emb_dim=64
  twb train --preset sst2                       SST-2 from scratch (see the preset's paths)
  twb train --resume runs/20260101-120000/interrupt --set train.epochs=20
"""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train", help="train a Transformer classifier headless",
        description="Train a Transformer text classifier without the workbench UI; prints one line "
                    "per epoch and a per-class report, and saves best/ and last/ checkpoints.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    for hook in ARGUMENT_HOOKS:
        hook(parser)
    parser.set_defaults(func=run)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=list(PRESETS), help="starting settings (default: 'default')")
    parser.add_argument("--config", metavar="FILE.toml", help="settings file (as the workbench saves them)")
    parser.add_argument("--data", metavar="FILE", help="training data, CSV/TSV/JSONL (implies data.source=file)")
    parser.add_argument("--val", metavar="FILE", help="validation data (default: a split of --data)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="override one setting, e.g. --set train.lr=3e-4 (repeatable)")
    parser.add_argument("--out", metavar="DIR", help="run folder for checkpoints (default: runs/<date-time>)")
    parser.add_argument("--resume", metavar="DIR", help="continue from a checkpoint (or a run folder)")
    parser.add_argument("--fresh-optimizer", action="store_true", help="with --resume: continue even when the checkpoint has no optimizer.pt (the optimizer starts anew)")
    parser.add_argument("--quiet", action="store_true", help="print only the epoch lines and the final report")


# --- config ---------------------------------------------------------------------------------

def build_config(args: argparse.Namespace) -> RunConfig:
    """Preset (or the resumed checkpoint's config), then --config, --data/--val, --set."""
    if getattr(args, "resume", None):
        if args.preset:
            raise UserError("--preset cannot be combined with --resume",
                            "a resumed run keeps its checkpoint's settings; change them with --set")
        from core.training.checkpoint import read_config
        config = read_config(args.resume)
    else:
        config = preset(args.preset or "default")
    if args.config:
        config = load_toml(args.config, base=config)
    if args.data:
        if not Path(args.data).is_file():
            raise UserError(f"data file {args.data!r} not found", "check the path given to --data")
        config = with_field(config, "data.source", "file")
        config = with_field(config, "data.train_path", args.data)
    if args.val:
        if not Path(args.val).is_file():
            raise UserError(f"validation file {args.val!r} not found", "check the path given to --val")
        config = with_field(config, "data.val_path", args.val)
    return apply_overrides(config, list(args.overrides or []))


# --- consumers ------------------------------------------------------------------------------

def make_consumers(args: argparse.Namespace, config: RunConfig, out_dir: Path) -> list[ev.EventCallback]:
    """The printer, then whatever ``CONSUMER_FACTORIES`` add (see the module docstring)."""
    from core.commands.printer import HeadlessPrinter

    consumers: list[ev.EventCallback] = [HeadlessPrinter(quiet=bool(getattr(args, "quiet", False)))]
    for factory in CONSUMER_FACTORIES:
        consumer = factory(args, config, out_dir)
        if consumer is not None:
            consumers.append(consumer)
    return consumers


# --- running --------------------------------------------------------------------------------

EXIT_FAILED = 1
_STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None),
                                  getattr(signal, "SIGHUP", None)) if s is not None)


def run(args: argparse.Namespace) -> int:
    from core.training.resume import check_resumable
    from core.training.run_folder import choose_run_folder
    from core.data.prepare import prepare_data
    from core.training.trainer import Trainer

    config = check(build_config(args))
    fresh_optimizer = bool(getattr(args, "fresh_optimizer", False))
    resume_from = check_resumable(args.resume, fresh_optimizer) if args.resume else None
    data = prepare_data(config.data, config.model, config.train.seed)
    check(config, train_size=len(data.train.labels))
    out_dir = choose_run_folder(args.out, resume_from)  # checked (or created) before training

    trainer = Trainer(config, ev.fan_out(*make_consumers(args, config, out_dir)), out_dir=out_dir,
                      resume_from=resume_from, data=data, fresh_optimizer=fresh_optimizer)
    received: list[int] = []

    def on_signal(signum, frame) -> None:
        if received:  # a second Ctrl-C: stop waiting for the checkpoint
            raise KeyboardInterrupt
        received.append(signum)
        print(f"twb: {signal.Signals(signum).name} received, saving an interrupt checkpoint...",
              file=sys.stderr, flush=True)
        trainer.interrupt()

    previous = _install_handlers(on_signal)
    try:
        worker = threading.Thread(target=trainer.run, name="twb-train", daemon=True)
        worker.start()
        while not trainer.wait(0.2):  # short waits so signal handlers run promptly
            pass
        worker.join()
    finally:
        _restore_handlers(previous)

    outcome = trainer.outcome
    if isinstance(outcome, ev.TrainingFinished):
        return 0
    if isinstance(outcome, ev.TrainingCancelled):
        return 128 + (received[0] if received else signal.SIGINT)
    return EXIT_FAILED


def _install_handlers(handler) -> dict[int, object]:
    previous: dict[int, object] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # only the main thread may set handlers (e.g. when embedded in tests)
    for signum in _STOP_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):
            pass
    return previous


def _restore_handlers(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
