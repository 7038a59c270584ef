"""The `twb` entry point: headless subcommands from core.cli, the workbench otherwise.

Textual, torch and transformers are imported only by the commands that need them, so
`twb train` never loads the UI and the UI's first screen never waits for torch.
"""
from __future__ import annotations

import sys

from core import cli as core_cli


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # the workbench; no command module is imported, so nothing heavy loads first
        return open_workbench()
    parser = core_cli.build_parser(extra_modules=["tui.replay_cli"])  # `twb replay`, `twb attach`
    args = parser.parse_args(argv)
    if getattr(args, "func", None):
        return core_cli.run_command(args)
    return open_workbench()


def open_workbench() -> int:
    """`twb` alone: the terminal workbench (Textual loads here, torch only when needed)."""
    from tui.app import create_app

    app = create_app()
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":
    sys.exit(main())
