"""`twb compare A B C`: the named sessions side by side, as a table, JSON or CSV."""
from __future__ import annotations

import argparse
import shutil
import sys

from core.errors import UserError

EPILOG = """examples:
  twb compare baseline wide-model                 the two runs, and the settings that differ
  twb compare a b c --sort=-best_val_accuracy     best first
  twb compare a b c --where 'val_accuracy>0.8'    only the runs above 0.8
  twb compare a b --csv > runs.csv                for a spreadsheet
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "compare", help="compare recorded sessions: best and final metrics, speed, and the settings that differ",
        description="One table of the named sessions: status, best validation accuracy and the step it was "
                    "reached, final losses and accuracy, duration, samples/s, and only the hyperparameters "
                    "that differ between them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sessions", nargs="+", metavar="SESSION", help="session names or folders (as `twb replay`)")
    parser.add_argument("--dir", metavar="DIR", help="sessions folder (default: $TWB_SESSIONS_DIR or ./sessions)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    output.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    parser.add_argument("--sort", metavar="COLUMN",
                        help="sort by a column (e.g. best_val_accuracy, train.lr); --sort=-COLUMN for descending")
    parser.add_argument("--where", action="append", default=[], metavar="EXPR",
                        help="keep the runs where EXPR holds, e.g. 'val_accuracy>0.8' (repeatable: all must hold)")
    parser.set_defaults(func=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    from core.commands.sessions import find_session
    from core.sessions import compare
    from core.sessions.reader import open_session
    from core.sessions.schema import SessionError

    rows = []
    for ref in args.sessions:
        try:
            log = open_session(find_session(ref, args.dir))
        except UserError as exc:  # a missing name, or a log that cannot be opened: a row says so
            print(f"twb: warning: {exc.message}", file=sys.stderr)
            rows.append(compare.missing_row(ref, exc.message))
            if isinstance(exc, SessionError):
                rows[-1].status = "unreadable"
            continue
        rows.append(compare.row_of(log))
    if all(r.status in ("missing", "unreadable") for r in rows):
        raise UserError("none of the named sessions could be read", "run `twb sessions` to list them")
    compare.add_label_notes(rows)
    rows = compare.filter_rows(rows, args.where)
    if args.sort:
        rows = compare.sort_rows(rows, args.sort)
    if args.json:
        print(compare.format_json(rows))
    elif args.csv:
        sys.stdout.write(compare.format_csv(rows))
    elif not rows:
        print("no run matches " + " and ".join(args.where))
    else:
        print(compare.format_table(rows, width=shutil.get_terminal_size((80, 24)).columns))
    return 0
