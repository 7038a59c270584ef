"""Ctrl+S / Ctrl+O: the form's settings to and from a TOML file, held by the app as ``app.config_files``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core.config import ConfigError, RunConfig, load_toml, save_toml
from tui.screens.dialogs import ConfirmScreen, PromptScreen


class ConfigFiles:
    def __init__(self, app: Any, path: str = "twb.toml") -> None:
        self.app = app
        self.path = path  # the last file saved or loaded: the next prompt offers it

    def save(self) -> None:
        app = self.app

        def chosen(path: str | None) -> None:
            if not path:
                return
            if Path(path).expanduser().exists():  # a file the user may care about: ask before replacing it
                app.push_screen(ConfirmScreen(f"{path} exists. Replace it with the form's settings?",
                                              yes="Replace", no="Keep it"),
                                lambda yes: self._write(path) if yes else app.notify(f"{path} was left as it was.",
                                                                                     title="Not saved"))
            else:
                self._write(path)

        app.push_screen(PromptScreen("Save the configuration as TOML to:", self.path), chosen)

    def _write(self, path: str) -> None:
        form = self.app.form
        try:
            save_toml(form.config, path)
        except OSError as exc:
            self.app.notify(f"Cannot write {path}: {exc}", title="Not saved", severity="error")
            return
        self.path = path
        note = " (fields with errors keep their last valid value)" if form.errors else ""
        self.app.notify(f"Saved the configuration to {path}{note}.")

    def load(self) -> None:
        app = self.app

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                config = load_toml(path, base=RunConfig())
            except ConfigError as exc:
                app.notify("\n".join(str(e) for e in exc.errors), title=f"Cannot load {path}", severity="error")
                return
            self.path = path
            app.form.set_config(config)
            app.notify(f"Loaded {path}.")

        app.push_screen(PromptScreen("Load a TOML configuration from:", self.path), chosen)
