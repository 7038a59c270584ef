"""``SessionRecorder``: what the TUI and the headless trainer plug into to record a session.

It is an ``EventCallback`` (``recorder.on_event``) for the engine's events, plus methods for
what only the front end knows: user actions, the attention views looked at, console prompts.
Recording never stops training: if the disk fails, the recorder keeps the error in ``error``
and stops writing, and the caller decides how to tell the user.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from core import config as cfg
from core.events import (CheckpointSaved, Event, RunStarted, TERMINAL_EVENTS, to_record)
from core.sessions import names, schema
from core.sessions.writer import SessionWriter


class SessionRecorder:
    def __init__(self, writer: SessionWriter):
        self.writer = writer
        self.folder: Path = writer.folder
        self.error: OSError | None = None
        self.last_terminal: schema.SessionStatus | None = None
        self._last_config: dict[str, Any] | None = None
        self._lock = threading.Lock()

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def create(cls, name: str, root: str | os.PathLike | None = None,
               config: cfg.RunConfig | None = None) -> "SessionRecorder":
        """Start a new session folder under ``root`` (default: $TWB_SESSIONS_DIR or ./sessions)."""
        recorder = cls(SessionWriter.create(name, root))
        if config is not None:
            recorder.record_config(config)
        return recorder

    @classmethod
    def resume(cls, folder: str | os.PathLike) -> "SessionRecorder":
        """Append to an existing session (training resumed into it)."""
        return cls(SessionWriter.reopen(folder))

    @property
    def checkpoints_dir(self) -> Path:
        return self.folder / names.CHECKPOINTS_DIR

    @property
    def closed(self) -> bool:
        return self.writer.closed

    # --- recording ---------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """EventCallback: record one engine event (called from the trainer's thread)."""
        if isinstance(event, RunStarted) and event.config != self._last_config:
            self._record_config_dict(event.config)
        record = to_record(event)
        self._write(record.pop("type"), record)
        if isinstance(event, TERMINAL_EVENTS):
            self.last_terminal = schema.STATUS_OF_EVENT[type(event).__name__]
        if isinstance(event, (CheckpointSaved, *TERMINAL_EVENTS)):
            self._sync()  # a checkpoint on disk must never be ahead of the log that names it

    __call__ = on_event

    def record_config(self, config: cfg.RunConfig) -> None:
        """The run's config as a record, and as config.toml in the session folder."""
        self._record_config_dict(cfg.to_dict(config), config)

    def record_action(self, action: schema.Action, **detail: Any) -> None:
        """A user action: start, cancel, resume, interrupt, detach, or a note."""
        self._write(schema.ACTION, {"action": action, "detail": detail})

    def record_attention(self, view: Any, text: str | None = None, layer: int | None = None,
                         head: int | None = None) -> None:
        """An attention view the user looked at (core.attention.AttentionView), compactly."""
        fields = {
            "text": text,
            "source": getattr(view, "source", ""),
            "causal": bool(getattr(view, "causal", False)),
            "tokens": list(view.tokens),
            "weights": schema.encode_weights(view.weights),  # (L, H, T, T) float16
            "prediction": getattr(view, "prediction", None),
            "truncated": int(getattr(view, "truncated", 0) or 0),
            "layer": layer,
            "head": head,
        }
        self._write(schema.ATTENTION, fields)

    def record_explanation(self, explanation: Any) -> None:
        """An explanation the user looked at (core.explanation.Explanation): tokens and scores."""
        self._write(schema.EXPLANATION, explanation.to_record())

    def record_console(self, task: str, model: str | None, inputs: Any, params: dict[str, Any] | None,
                       result: Any = None, latency_s: float | None = None, error: str | None = None) -> None:
        """A pipeline prompt and what came back (result or the error message shown)."""
        self._write(schema.CONSOLE, {"task": task, "model": model, "inputs": inputs, "params": params or {},
                                     "result": result, "error": error, "latency_s": latency_s})

    def close(self, status: schema.EndStatus | None = None, **detail: Any) -> None:
        """Write the end marker and release the session. ``status`` defaults to how the last run ended."""
        if self.writer.closed:
            return
        status = status or self.last_terminal or schema.FINISHED
        self._write(schema.END, {"status": status, "detail": detail})
        try:
            self.writer.close()
        except OSError as exc:
            self.error = self.error or exc

    def __enter__(self) -> "SessionRecorder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close(schema.INTERRUPTED)
        else:
            self.close(schema.FAILED, message=str(exc))

    # --- internals -----------------------------------------------------------------------------

    def _record_config_dict(self, data: dict[str, Any], config: cfg.RunConfig | None = None) -> None:
        self._last_config = data
        self._write(schema.CONFIG, {"config": data, "toml": names.CONFIG_NAME})
        try:
            config = config or cfg.from_dict(data)
            cfg.save_toml(config, self.folder / names.CONFIG_NAME)
        except (cfg.ConfigError, OSError):
            pass  # the record holds the config; the TOML copy is a convenience

    def _write(self, record_type: str, fields: dict[str, Any]) -> None:
        if self.error is not None or self.writer.closed:
            return
        try:
            self.writer.write(record_type, **fields)
        except OSError as exc:
            self.error = exc
        except ValueError:  # closed by another thread between the check and the write
            pass

    def _sync(self) -> None:
        try:
            self.writer.sync()
        except OSError as exc:
            self.error = self.error or exc
