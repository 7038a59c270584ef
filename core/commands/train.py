"""`twb train`: train a classifier headless, printing the tutorial's epoch lines and a report.

Settings come from a preset, then a TOML file, then ``--data``/``--val``, then ``--set``
(later wins). With ``--resume`` the checkpoint's own config is the starting point instead of a
preset. Bad input (missing file, bad ``--set``, invalid config) exits 2 with one line per problem;
a failed run exits 1; Ctrl-C, SIGTERM and SIGHUP save an interrupt checkpoint and exit 128 +
the first signal's number (130 for Ctrl-C). Further signals while it is saved are ignored with a
notice, so the checkpoint is never left half-written.

With ``--session NAME`` the run is also recorded as a session (core.sessions.run_target
decides which session and which checkpoint folder); ``train`` hands every event to the printer
and, when recording, to the session recorder.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from core import events as ev
from core.config import PRESETS, ConfigError, RunConfig, apply_overrides, check, load_toml, preset, with_field
from core.distributed.env import under_torchrun
from core.errors import UserError

if TYPE_CHECKING:
    from core.sessions.run_target import RunTarget

EPILOG = """examples:
  twb train                                     the built-in synthetic task (preset 'default')
  twb train --preset nano --quiet               a tiny model, epoch lines and report only
  twb train --data reviews.csv --set train.epochs=5 --set model.emb_dim=64
  twb train --preset sst2                       SST-2 from scratch (see the preset's paths)
  twb train --resume runs/20260101-120000/interrupt --set train.epochs=20
  twb train --preset sst2 --nproc-per-node 2     data-parallel: 2 processes (torchrun, standalone)
  torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:PORT \
      -m core.cli train --preset sst2 --out runs/big    each rank joins from torchrun's environment
"""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train", help="train a Transformer classifier headless",
        description="Train a Transformer text classifier without the workbench UI; prints one line "
                    "per epoch and a per-class report, and saves best/ and last/ checkpoints.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=run, train_parser=parser)  # the parser rebuilds a worker's command line
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
    parser.add_argument("--session", metavar="NAME",
                        help="record the run as a session under the sessions folder (replay it with `twb replay NAME`, "
                             "follow it live with `twb attach NAME`); with --resume, appends to the checkpoint's session")
    parser.add_argument("--sessions-dir", metavar="DIR",
                        help="sessions folder (default: $TWB_SESSIONS_DIR or ./sessions)")
    parser.add_argument("--nproc-per-node", type=int, metavar="N",
                        help="data-parallel training: start a torchrun job of N processes on this machine (gloo on "
                             "the CPU, NCCL with one GPU each); the effective batch is train.batch_size x N")
    parser.add_argument("--port", type=int, metavar="PORT",
                        help="with --nproc-per-node: the rendezvous port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--tensorboard", metavar="DIR",
                        help="also write TensorBoard event files, live, into DIR/<session or run folder> "
                             "(needs the [tensorboard] extra)")


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
    config = apply_overrides(config, list(args.overrides or []))
    if args.val and config.data.source != "file":
        raise UserError(f"--val {args.val} is used only with training data from a file",
                        "add --data FILE (or set data.source=file and data.train_path)")
    return config




# --- running --------------------------------------------------------------------------------

EXIT_FAILED = 1
RECORDING_LINE = "twb: recording session "  # the workbench's job follower reads the folder from it
REPORT_FILE = "class_report.csv"  # every class's figures, when there are too many to print
_STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None),
                                  getattr(signal, "SIGHUP", None)) if s is not None)


def run(args: argparse.Namespace, parallel=None, on_event: ev.EventCallback | None = None) -> int:
    """Train; with --session, recorded from the first setting checked to the exit code.

    With --nproc-per-node, or when started by torchrun, core.commands.train_ddp runs the job and
    calls back here on every rank with its ``parallel`` (only rank 0 records a session)."""
    if parallel is None and getattr(args, "nproc_per_node", None) is None and not under_torchrun():
        # A saved config (or the workbench's job) asks for processes as --nproc-per-node does.
        try:
            configured = build_config(args).train.nproc_per_node
        except (UserError, ConfigError):
            configured = 1  # the run below reports it (and records it, with --session)
        if configured > 1:
            args.nproc_per_node = configured
    if getattr(args, "port", None) is not None and getattr(args, "nproc_per_node", None) is None:
        raise UserError("--port is used only with --nproc-per-node", "add --nproc-per-node N, or leave --port out")
    if parallel is None and (getattr(args, "nproc_per_node", None) is not None or under_torchrun()):
        from core.commands.train_ddp import run_job
        return run_job(args)
    main = parallel is None or parallel.is_main
    session = open_session(args) if args.session is not None and main else None
    try:
        code = train(args, session, parallel, on_event)
    except BaseException as exc:  # a user error before training, or a bug: the session says so
        if session is not None:
            close_session(session.recorder, None, exc)
        raise
    if session is not None:
        close_session(session.recorder, code, None)
    return code


def open_session(args: argparse.Namespace) -> "RunTarget":
    """The session --session NAME records into (core.sessions.run_target picks it)."""
    from core.sessions.run_target import open_run_target

    if not args.session.strip():
        raise UserError("--session needs a name", "pass a name, e.g. --session baseline, or leave the option out")
    target = open_run_target(args.sessions_dir, args.session, resume_from=args.resume, out_dir=args.out,
                             named=args.session)
    for note in target.notes:
        _tell(f"twb: note: {note}")
    target.recorder.record_action("resume" if args.resume else "start", argv=sys.argv[1:], checkpoint=args.resume)
    _tell(f"{RECORDING_LINE}{target.recorder.folder}")
    return target


def close_session(recorder, code: int | None, error: BaseException | None) -> None:
    """The session's end record: finished, failed, or interrupted (with the signal), from how the run ended."""
    from core.sessions import schema

    if code is not None:
        status = {0: schema.FINISHED}.get(code, schema.INTERRUPTED if code >= 128 else schema.FAILED)
        detail = {"signal": code - 128} if code >= 128 else {}
    else:
        status = schema.INTERRUPTED if isinstance(error, KeyboardInterrupt) else schema.FAILED
        detail = {"message": str(error) or type(error).__name__}
    recorder.close(status, **detail)
    if recorder.error is not None:
        _tell(f"twb: warning: the session stopped recording: {recorder.error}")
    _tell(f"twb: session {recorder.folder.name}: {status}")


def train(args: argparse.Namespace, session: "RunTarget | None", parallel=None,
          on_event: ev.EventCallback | None = None) -> int:
    """Build the config, prepare the data and train; every event goes to the printer, then to the
    session recorder when there is one (on rank 0 alone, in a torch.distributed job)."""
    from core.commands.printer import HeadlessPrinter
    from core.training.resume import check_resumable
    from core.training.run_folder import choose_run_folder
    from core.data.prepare import prepare_data
    from core.training.trainer import Trainer

    config = check(build_config(args))
    fresh_optimizer = bool(getattr(args, "fresh_optimizer", False))
    resume_from = check_resumable(args.resume, fresh_optimizer) if args.resume else None
    data = prepare_data(config.data, config.model, config.train.seed)
    if parallel is not None:
        data = parallel.share_encoder(data, config.model.max_seq_len)  # one vocabulary for every rank
    check(config, train_size=len(data.train.labels))
    out = session.out_dir if session is not None else args.out
    main = parallel is None or parallel.is_main
    out_dir = choose_run_folder(out, resume_from) if main else None  # checked (or created) before training
    if parallel is not None:
        out_dir = Path(parallel.share_setup(str(out_dir), data))  # rank 0's folder; the same data everywhere

    printer = HeadlessPrinter(quiet=bool(args.quiet), full_report=out_dir / REPORT_FILE) if main else None
    if parallel is not None and printer is not None:
        printer = _without_lost_contact(printer)
    recorder = session.recorder.on_event if session is not None else None
    tb_writer = open_tensorboard(args, session.recorder.folder.name if session is not None else out_dir.name) \
        if main else None
    trainer = Trainer(config, ev.fan_out(printer, recorder, tb_writer, on_event), out_dir=out_dir,
                      resume_from=resume_from, data=data, fresh_optimizer=fresh_optimizer, parallel=parallel)
    received: list[int] = []

    def on_signal(signum, frame) -> None:
        if trainer.outcome is not None:
            return  # the run has ended (a job's launcher stops the ranks when one failed): nothing to save
        if received:
            if parallel is not None:
                return  # torchrun passes a signal on to its workers, maybe more than once
            # Stopping now would leave a half-written checkpoint (and abort the interpreter
            # while the worker writes it); the save is short, so it is allowed to finish.
            _tell(f"twb: {signal.Signals(signum).name} received again; still saving the interrupt "
                  "checkpoint (kill -9 to abandon it)")
            return
        received.append(signum)
        if main:
            _tell(f"twb: {signal.Signals(signum).name} received, saving an interrupt checkpoint...")
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
        if tb_writer is not None:
            tb_writer.close()
            if tb_writer.error is not None:
                _tell(f"twb: warning: {tb_writer.error}")

    outcome = trainer.outcome
    if isinstance(outcome, ev.TrainingFinished):
        return 0
    if isinstance(outcome, ev.TrainingCancelled):
        return 128 + (received[0] if received else signal.SIGINT)
    return EXIT_FAILED


def _without_lost_contact(printer: ev.EventCallback) -> ev.EventCallback:
    """Rank 0's printer in a job, less a failure that only says this rank lost contact with
    another: the launcher's one line names the rank that failed first and why, and prints this
    one where no other rank said more (core.distributed.launch)."""
    from core.distributed.launch import LOST_CONTACT

    def on_event(event: ev.Event) -> None:
        if not (isinstance(event, ev.TrainingFailed) and LOST_CONTACT in event.message):
            printer(event)

    return on_event


def open_tensorboard(args: argparse.Namespace, run_name: str):
    """The live TensorBoard writer for --tensorboard DIR (DIR/<run_name>), or None without the option."""
    if not getattr(args, "tensorboard", None):
        return None
    from core.sessions.tensorboard import TensorBoardWriter

    writer = TensorBoardWriter(Path(args.tensorboard) / run_name)
    _tell(f"twb: writing TensorBoard files to {writer.run_dir}")
    return writer


def _tell(line: str) -> None:
    """A status line on stderr; after SIGHUP the terminal may be gone, which must not stop the run."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


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
