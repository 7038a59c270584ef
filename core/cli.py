"""The headless command line: `twb train`, `twb export`, `twb pipeline`, `twb sessions`.

Subcommands live in core/commands/, one module each. The `twb` entry point (tui/cli.py) adds
the commands that open the terminal UI on top of this parser.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from core.config import ConfigError
from core.errors import UserError

COMMAND_MODULES = [
    "core.commands.train",
    "core.commands.sessions",
    "core.commands.pipeline",
    "core.commands.export",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twb",
        description="Transformer Workbench: train, inspect and try Transformer models from the terminal. "
        "With no command, opens the workbench.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed subcommand; user errors become one line on stderr and exit code 2."""
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for error in exc.errors:
            print(f"twb: error: {error}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"twb: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twb: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return run_command(args)
