"""The `twb` entry point: headless subcommands from core.cli, the workbench otherwise.

Textual, torch and transformers are imported only by the commands that need them, so
`twb train` never loads the UI and the UI's first screen never waits for torch.
"""
from __future__ import annotations

import sys

from core import cli as core_cli


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = core_cli.build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None):
        return core_cli.run_command(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
