"""A pane's save-image key: ask for a path (prefilled in exports/), draw and write in a thread.

The figure is built from plain data the pane captured when the key was pressed (an
``AttentionView`` is read-only; curves are copied), with core.render, in a thread worker:
matplotlib never runs in the UI thread. The written path, or the one-line error, is shown
as a notification; a failed save loses nothing on screen.
"""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any, Callable

from textual.app import App

from tui.exporting import EXPORTS_DIR
from tui.screens.dialogs import PromptScreen

FigureBuilder = Callable[[], Any]  # returns a matplotlib Figure


def default_image_path(stem: str, suffix: str = ".svg") -> str:
    """exports/<stem>-<date-time>.svg: a new name each time, so nothing earlier is overwritten."""
    return str(Path(EXPORTS_DIR) / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}")


class ImageSaver:
    def __init__(self) -> None:
        self.last_saved: Path | None = None
        self.last_error: str | None = None

    def ask_and_save(self, app: App, what: str, stem: str, build: FigureBuilder) -> None:
        def chosen(path: str | None) -> None:
            if path:
                app.run_worker(partial(self._save, app, build, path), thread=True, exit_on_error=False,
                               group="image")

        app.push_screen(PromptScreen(f"Save {what} as an image (.svg or .png):", default_image_path(stem),
                                     f"{EXPORTS_DIR}/{stem}.png"), chosen)

    def _save(self, app: App, build: FigureBuilder, path: str) -> None:  # in a thread worker
        from core.errors import UserError
        from core.render import check_image_path, save_figure

        try:
            target = Path(path).expanduser()
            if target.parent == Path(EXPORTS_DIR):  # the default folder is made on first use
                target.parent.mkdir(exist_ok=True)
            check_image_path(target)  # a bad name or folder fails before the drawing
            written = save_figure(build(), target)
        except UserError as exc:
            app.call_from_thread(self._failed, app, str(exc))
        except OSError as exc:  # the default folder could not be made
            app.call_from_thread(self._failed, app, f"cannot write {path!r}: {exc.strerror or exc}")
        else:
            app.call_from_thread(self._saved, app, written.resolve())

    def _saved(self, app: App, path: Path) -> None:
        self.last_saved, self.last_error = path, None
        app.notify(f"Saved {path}", title="Image saved")

    def _failed(self, app: App, message: str) -> None:
        self.last_error = message
        app.notify(message, title="Image not saved", severity="error")
