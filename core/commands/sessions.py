"""`twb sessions`: list recorded sessions, show one's problems, export its metrics to CSV."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sessions", help="list recorded sessions (name, start, status, epochs, best accuracy, duration)",
        description="List the sessions under the sessions folder ($TWB_SESSIONS_DIR or ./sessions), "
        "or work on one of them.")
    parser.add_argument("--dir", metavar="DIR", help="sessions folder (default: $TWB_SESSIONS_DIR or ./sessions)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=list_command)
    actions = parser.add_subparsers(dest="sessions_command", metavar="ACTION")

    export = actions.add_parser("export-csv", help="write sessions' metrics as CSV (one row per logged step and epoch)")
    export.add_argument("session", nargs="+", help="session names or folders (as listed by `twb sessions`); "
                        "several go into one file, told apart by its `session` column")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="CSV file to write; '-' for standard output "
                             "(default for one session: <session>/exports/metrics.csv; needed for several)")
    export.add_argument("--dir", dest="sub_dir", metavar="DIR", help=argparse.SUPPRESS)
    export.set_defaults(func=export_command)

    tb = actions.add_parser("export-tb", help="write sessions as TensorBoard event files (scalars and hparams)",
                            description="One TensorBoard run folder per session under --logdir (named after the "
                                        "session folder): training loss, learning rate and throughput per logged "
                                        "step, validation loss and accuracy per evaluation, and the settings in "
                                        "the HParams tab. Open with `tensorboard --logdir DIR`.")
    tb.add_argument("session", nargs="+", help="session names or folders (as listed by `twb sessions`)")
    tb.add_argument("--logdir", metavar="DIR", required=True, help="TensorBoard folder to write the runs into")
    tb.add_argument("--dir", dest="sub_dir", metavar="DIR", help=argparse.SUPPRESS)
    tb.set_defaults(func=export_tb_command)

    show = actions.add_parser("show", help="a session's summary and every problem found in its log")
    show.add_argument("session", help="session name or folder")
    show.add_argument("--dir", dest="sub_dir", metavar="DIR", help=argparse.SUPPRESS)
    show.set_defaults(func=show_command)


def find_session(ref: str, root: str | None) -> Path:
    """The session folder ``ref`` names; when several share the name, a note says which is used."""
    from core.sessions.names import resolve_session

    return resolve_session(ref, root, note=lambda message: print(f"twb: note: {message}", file=sys.stderr))


def list_command(args: argparse.Namespace) -> int:
    from core.sessions import listing, names

    summaries = listing.list_sessions(args.dir)
    if args.json:
        print(json.dumps([s.as_dict() for s in summaries], indent=2))
    elif not summaries:
        print(f"no sessions under {names.sessions_root(args.dir)} "
              "(record one with `twb train --session NAME`)")
    else:
        print(listing.format_table(summaries))
    return 0


def export_command(args: argparse.Namespace) -> int:
    from core.sessions import export, names

    if len(args.session) > 1 and not args.output:
        raise UserError(f"export-csv of {len(args.session)} sessions needs -o FILE",
                        "pass -o FILE for one CSV with a `session` column, or '-o -' for standard output")
    logs = open_logs(args.session, args.sub_dir or args.dir)
    if args.output == "-":
        export.write_many(logs, sys.stdout)
        return 0
    path = Path(args.output) if args.output else logs[0].folder / names.EXPORTS_DIR / "metrics.csv"
    try:
        rows = export.export_csv(logs, path)
    except OSError as exc:  # read-only, full, or a file where a folder should be: nothing was written
        raise UserError(f"cannot write {path}: {exc.strerror or exc}", "choose another file with -o FILE") from None
    print(f"wrote {rows} rows to {path}")
    return 0


def export_tb_command(args: argparse.Namespace) -> int:
    from core.sessions import tensorboard

    tensorboard.summary_writer_class()  # a missing extra is told before any session is read
    logs = open_logs(args.session, args.sub_dir or args.dir)
    for log in logs:
        print(f"wrote {tensorboard.export_session(log, args.logdir)}")
    return 0


def open_logs(refs: list[str], root: str | None) -> list:
    """The named sessions, opened; each one's log problems are warnings on stderr."""
    from core.sessions.reader import open_session

    logs = [open_session(find_session(ref, root)) for ref in refs]
    for log in logs:
        for problem in log.problems:
            print(f"twb: warning: {log.folder.name}: {problem}", file=sys.stderr)
    return logs


def show_command(args: argparse.Namespace) -> int:
    from core.sessions import listing
    from core.sessions.reader import open_session

    log = open_session(find_session(args.session, args.sub_dir or args.dir))
    summary = listing.summarize_log(log)
    print(listing.format_table([summary]))
    print(f"records: {len(log)}; {log.end_detail()}")
    for checkpoint in log.checkpoints[-3:]:
        r = checkpoint[1]
        print(f"checkpoint ({r.get('kind')}, epoch {r.get('epoch')}): {r.get('path')}")
    if log.problems:
        print(f"{len(log.problems)} problem(s):")
        for problem in log.problems:
            print(f"  {problem}")
    return 0
