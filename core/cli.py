"""The headless command line: `twb train`, `export`, `pipeline`, `sessions`, `compare`, `attention`, `predict`, `eval`.

Subcommands live in core/commands/, one module each. The `twb` entry point (tui/cli.py) adds
the commands that open the terminal UI on top of this parser.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Iterable

from core.config import ConfigError
from core.errors import ERROR_PREFIX, UserError

COMMAND_MODULES = [
    "core.commands.train",
    "core.commands.sessions",
    "core.commands.pipeline",
    "core.commands.export",
    "core.commands.compare",
    "core.commands.attention",
    "core.commands.predict",
    "core.commands.evaluate",
    "core.commands.errors",
]


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `cmd | head` killed by the signal


def build_parser(extra_modules: Iterable[str] = ()) -> argparse.ArgumentParser:
    """The `twb` parser: the headless commands, then ``extra_modules`` (each with ``register(sub)``)."""
    from core.version import twb_version

    parser = argparse.ArgumentParser(
        prog="twb",
        description="Transformer Workbench: train, inspect and try Transformer models from the terminal. "
        "With no command, opens the workbench.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {twb_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [*COMMAND_MODULES, *extra_modules]:
        importlib.import_module(name).register(sub)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed subcommand; user errors become one line on stderr and exit code 2."""
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in a traceback at exit
        return code
    except ConfigError as exc:
        for error in exc.errors:
            print(f"{ERROR_PREFIX}{error}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"{ERROR_PREFIX}{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """stdout's reader closed the pipe (`twb ... | head`): stop quietly, as a SIGPIPE would.

    Python's exit flushes stdout again, which would fail again and print a traceback; pointing
    the descriptor at /dev/null makes that flush harmless."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return run_command(args)


if __name__ == "__main__":  # torchrun workers run `python -m core.cli train ...`
    sys.exit(main())
