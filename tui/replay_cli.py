"""`twb replay SESSION` and `twb attach SESSION`: parsers only; Textual loads when they run."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the two viewer commands to the `twb` parser (core.cli.build_parser's extra modules)."""
    replay = sub.add_parser(
        "replay", help="open a recorded session read-only in the workbench, with a replay cursor",
        description="Open a session read-only: the panes show it as of a replay cursor. Keys: space play/pause, "
                    "+/- speed (1x to 100x, instant), ./, step forward/back, e/E next/previous epoch, g/G start/end, Escape leaves.")
    replay.add_argument("session", help="session name or folder (as listed by `twb sessions`)")
    replay.add_argument("--dir", metavar="DIR", help="sessions folder (default: $TWB_SESSIONS_DIR or ./sessions)")
    replay.set_defaults(func=lambda args: run_viewer(args, follow=False))
    attach = sub.add_parser(
        "attach", help="follow a session another process is writing (e.g. `twb train --session`), live",
        description="Follow a live session like tail -f. Quitting (ctrl+q, ctrl+d) or losing the connection "
                    "only closes this viewer; the training process is never touched.")
    attach.add_argument("session", help="session name or folder")
    attach.add_argument("--dir", metavar="DIR", help="sessions folder (default: $TWB_SESSIONS_DIR or ./sessions)")
    attach.set_defaults(func=lambda args: run_viewer(args, follow=True))


def run_viewer(args: argparse.Namespace, follow: bool) -> int:
    from core.commands.sessions import find_session
    from tui.replay import open_viewer  # Textual loads only here

    app = open_viewer(str(find_session(args.session, args.dir)), follow=follow, root=args.dir)
    app.run()
    return int(app.return_code or 0)
