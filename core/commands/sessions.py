"""`twb sessions`: list recorded sessions, show one's problems, export its metrics to CSV."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sessions", help="list recorded sessions (name, start, status, epochs, best accuracy, duration)",
        description="List the sessions under the sessions folder ($TWB_SESSIONS_DIR or ./sessions), "
        "or work on one of them.")
    parser.add_argument("--dir", metavar="DIR", help="sessions folder (default: $TWB_SESSIONS_DIR or ./sessions)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=list_command)
    actions = parser.add_subparsers(dest="sessions_command", metavar="ACTION")

    export = actions.add_parser("export-csv", help="write a session's metrics as CSV (one row per logged step and epoch)")
    export.add_argument("session", help="session name or folder (as listed by `twb sessions`)")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="CSV file to write; '-' for standard output (default: <session>/exports/metrics.csv)")
    export.add_argument("--dir", dest="sub_dir", metavar="DIR", help=argparse.SUPPRESS)
    export.set_defaults(func=export_command)

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
    from core.sessions.reader import open_session

    log = open_session(find_session(args.session, args.sub_dir or args.dir))
    for problem in log.problems:
        print(f"twb: warning: {log.folder.name}: {problem}", file=sys.stderr)
    if args.output == "-":
        export.write_csv(log, sys.stdout)
        return 0
    path = Path(args.output) if args.output else log.folder / names.EXPORTS_DIR / "metrics.csv"
    rows = export.export_csv(log, path)
    print(f"wrote {rows} rows to {path}")
    return 0


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
