"""Errors a user can cause, as opposed to bugs.

A ``UserError`` carries a message that names the thing (file, line, field, model) and a hint
that says the fix. The CLI prints it on one line and exits non-zero; the TUI shows it in the
pane. Tracebacks are kept for bugs.
"""
from __future__ import annotations

# How every command's one-line error starts on stderr (the workbench's job follower reads them back).
ERROR_PREFIX = "twb: error: "


class UserError(Exception):
    def __init__(self, message: str, hint: str = ""):
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)
