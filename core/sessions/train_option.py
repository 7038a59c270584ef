"""`twb train --session NAME`: record a headless run as a session, for tmux/nohup and attach.

Installed on the train command's parser by ``core.commands.sessions.register``. The run's
checkpoints go into the session folder (``<session>/checkpoints``) unless ``--out`` says
otherwise; with ``--resume`` and an existing session of that name, the run is appended to it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from core.sessions import names, schema
from core.sessions.recorder import SessionRecorder

SESSION_HELP = ("record the run as a session under the sessions folder (replay it with `twb replay NAME`, "
                "follow it live with `twb attach NAME`); with --resume, appends to that session when it exists")


def install(train_parser: argparse.ArgumentParser) -> None:
    """Add ``--session``/``--sessions-dir`` and wrap the command's ``func`` (once)."""
    if not any("--session" in action.option_strings for action in train_parser._actions):
        train_parser.add_argument("--session", metavar="NAME", help=SESSION_HELP)
        train_parser.add_argument("--sessions-dir", metavar="DIR",
                                  help="sessions folder (default: $TWB_SESSIONS_DIR or ./sessions)")
    run = train_parser.get_default("func")
    if run is not None and not getattr(run, "records_sessions", False):
        train_parser.set_defaults(func=_recording(run))


def consumer_factory(args: argparse.Namespace, config: Any, out_dir: Path) -> Callable | None:
    """For core.commands.train.CONSUMER_FACTORIES: the session recorder, when --session was given."""
    recorder = getattr(args, "session_recorder", None)
    return recorder.on_event if recorder is not None else None


def _recording(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run_recorded(args: argparse.Namespace) -> int:
        if not getattr(args, "session", None):
            return run(args)
        recorder = open_for(args)
        print(f"twb: recording session {recorder.folder}", file=sys.stderr, flush=True)
        status, detail = schema.FAILED, {}
        try:
            code = run(args)
            status = {0: schema.FINISHED, 1: schema.FAILED}.get(code, schema.INTERRUPTED if code >= 128 else schema.FAILED)
            if code >= 128:
                detail = {"signal": code - 128}
            return code
        except BaseException as exc:  # a user error before training, Ctrl-C twice, or a bug
            status = schema.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else schema.FAILED
            detail = {"message": str(exc) or type(exc).__name__}
            raise
        finally:
            recorder.close(status, **detail)
            if recorder.error is not None:
                print(f"twb: warning: the session stopped recording: {recorder.error}", file=sys.stderr)
            print(f"twb: session {recorder.folder.name}: {status}", file=sys.stderr, flush=True)

    run_recorded.records_sessions = True
    return run_recorded


def _existing(name: str, root: str | None) -> Path | None:
    """The newest session whose folder or user-given name is exactly ``name``."""
    wanted = names.sanitize_name(name)
    matches = [p for p in names.list_session_dirs(names.sessions_root(root))
               if p.name == name or names.user_name(p.name) == wanted]
    return matches[-1] if matches else None


def open_for(args: argparse.Namespace) -> SessionRecorder:
    """A new session, or the existing one of that name when resuming; sets ``args.out`` into it."""
    root = getattr(args, "sessions_dir", None)
    existing = _existing(args.session, root) if args.resume else None
    recorder = SessionRecorder.resume(existing) if existing else SessionRecorder.create(args.session, root)
    action = "resume" if args.resume else "start"
    recorder.record_action(action, argv=sys.argv[1:], checkpoint=args.resume)
    if not args.out:
        if args.resume:
            resumed = Path(args.resume).resolve()
            inside = recorder.checkpoints_dir.resolve() in resumed.parents or resumed == recorder.checkpoints_dir.resolve()
            if not inside:  # a checkpoint from elsewhere: new checkpoints still go into the session
                args.out = str(recorder.checkpoints_dir)
        else:
            args.out = str(recorder.checkpoints_dir)
    args.session_recorder = recorder
    return recorder
