"""`twb train` in a child process, followed through the session it records: how the workbench
runs a data-parallel job (``train.nproc_per_node`` above 1) or a run kept out of its own
process (``train.child_process``).

torchrun's workers must be processes of their own, and a run sharing the UI's process shares
its interpreter and cores (on a small CPU, a large share of a fine-tune's speed), so for these
the workbench does not train in a thread: it starts `twb train --config FILE --session NAME`
(which launches the torchrun job, core.commands.train_ddp, when there are several processes)
in a process group of its own, reads the session that job's rank 0 records, and hands each
recorded engine event to ``on_event``, the same stream a Trainer in the workbench's thread
would produce. So the panes, F9 export (from the CheckpointSaved events)
and the attention pane (``snapshot``: the latest checkpoint) work as for a single-process run.

Its own process group keeps the job out of the terminal's reach: leaving the workbench
(``detach``) or losing the terminal leaves it running, and `twb attach NAME` follows it. The
job's output (the launcher's one-line errors included) goes to a log file named in failures.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from core import events as ev
from core.commands.train import RECORDING_LINE
from core.config import RunConfig, dumps_toml
from core.errors import ERROR_PREFIX

POLL_S = 0.2  # how often the session log is read while the job runs


class TrainJob:
    """A Trainer-like handle (run, cancel, interrupt, snapshot, outcome) on a `twb train` child."""

    detachable = True  # the workbench may leave it running when it quits

    def __init__(self, config: RunConfig, on_event: ev.EventCallback, *, sessions_root: str | os.PathLike,
                 session_name: str, resume_from: str | None = None, out_dir: str | os.PathLike | None = None,
                 python: str = sys.executable) -> None:
        self.config = config
        self.on_event = on_event
        self.sessions_root = Path(sessions_root)
        self.session_name = session_name
        self.resume_from = resume_from
        self.out_dir = out_dir
        self.python = python
        self.process: subprocess.Popen | None = None
        self.session_folder: Path | None = None
        self.log_path: Path | None = None  # the job's stdout and stderr
        self.config_path: Path | None = None
        self.outcome: ev.Event | None = None
        self.data: Any = None  # the validation split the errors browser lists (once prepared)
        self._latest_checkpoint: tuple[str, int] | None = None  # (folder, step) of the newest save
        self._snapshot: tuple[tuple[str, int], Any] | None = None  # (that, its ClassifierSnapshot)
        self._wake = threading.Event()
        self._detached = False
        self._stop_signal: int | None = None  # asked for before the child existed
        self._lock = threading.Lock()

    # --- the Trainer contract the workbench uses -------------------------------------------------

    def run(self) -> None:
        """Start the job and follow it until it ends (or ``detach``); the last event is terminal."""
        try:
            self._start()
        except OSError as exc:
            self._finish(ev.TrainingFailed(f"the training job could not start: {exc}",
                                           "check that this Python can run `python -m core.cli train`"))
            return
        log = None
        shown = 0
        held: ev.Event | None = None  # the recorded terminal event, passed on once the job has exited
        while True:
            exited = self.process.poll() is not None
            if log is None:
                log = self._open_session_log()
                if log is not None:
                    shown = log.segment_start()
            if log is not None:
                log.refresh()
                for _, record in log.records(shown, only=frozenset(ev.EVENT_TYPES)):
                    event = self._event_of(record)
                    if event is None:
                        continue
                    if isinstance(event, ev.TERMINAL_EVENTS):
                        held = event
                        continue
                    if isinstance(event, ev.RunStarted) and self.data is None:
                        # The job has prepared (and cached) the data by now: reading it here is quick,
                        # and done before RunStarted, which offers its validation texts.
                        self.data = self._prepared_data()
                    self.on_event(event)
                shown = len(log)
            if exited or self._detached:
                break
            self._wake.wait(POLL_S)
            self._wake.clear()
        if self._detached:
            return
        self.config_path.unlink(missing_ok=True)
        self._finish(self._final_event(held, self.process.returncode))

    def cancel(self) -> None:
        """Stop the job; rank 0 saves an interrupt checkpoint (SIGTERM to the launcher, which
        passes it on to every worker)."""
        self._signal(signal.SIGTERM)

    interrupt = cancel  # a job always saves when stopped: the workbench's two ways are one here

    def detach(self) -> None:
        """Stop following and leave the job running (its session goes on being recorded)."""
        self._detached = True
        self._wake.set()

    def snapshot(self) -> Any:
        """The model of the latest checkpoint, for the attention pane (None before the first one).
        Loaded again only when a newer checkpoint was saved."""
        latest = self._latest_checkpoint
        if latest is None:
            return None
        if self._snapshot is None or self._snapshot[0] != latest:
            from core.training.checkpoint import ClassifierSnapshot, load_classifier

            loaded = load_classifier(latest[0])
            self._snapshot = (latest, ClassifierSnapshot(loaded.model, loaded.encoder, loaded.label_names,
                                                         loaded.max_seq_len))
        return self._snapshot[1]

    def _prepared_data(self) -> Any:
        """The run's data as the job prepared it (from the data cache), for the errors browser and
        the attention pane's examples; None when it cannot be prepared here."""
        from core.data.prepare import prepare_data

        try:
            return prepare_data(self.config.data, self.config.model, self.config.train.seed)
        except Exception:  # noqa: BLE001 - the job's own TrainingFailed says what is wrong
            return None

    def describe(self) -> str:
        where = f"session {self.session_folder.name}" if self.session_folder else f"session {self.session_name}"
        pid = f"pid {self.process.pid}" if self.process else "not started"
        n = self.config.train.nproc_per_node
        return f"{f'{n}-process ' if n > 1 else ''}training job ({pid}, {where})"

    # --- the child ------------------------------------------------------------------------------

    def _start(self) -> None:
        handle, config_path = tempfile.mkstemp(prefix="twb-job-", suffix=".toml")
        self.config_path = Path(config_path)  # every rank reads it: removed only once the job has ended
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(dumps_toml(self.config))
        handle, log_path = tempfile.mkstemp(prefix="twb-job-", suffix=".log")
        self.log_path = Path(log_path)
        argv = [self.python, "-m", "core.cli", "train", "--config", config_path, "--quiet",
                "--session", self.session_name, "--sessions-dir", str(self.sessions_root)]
        if self.resume_from:
            argv += ["--resume", str(self.resume_from)]
        if self.out_dir is not None:
            argv += ["--out", str(self.out_dir)]
        with os.fdopen(handle, "wb") as out, self._lock:
            # A process group of its own: the terminal's Ctrl-C and hang-up never reach it.
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
            stop, self._stop_signal = self._stop_signal, None
        if stop is not None:  # stopped while it was starting
            self._signal(stop)

    def _signal(self, signum: int) -> None:
        with self._lock:
            process = self.process
            if process is None:
                self._stop_signal = signum  # still starting: sent as soon as it exists
                return
        if process.poll() is None:
            try:
                process.send_signal(signum)
            except ProcessLookupError:
                pass
        self._wake.set()

    def _output_lines(self) -> list[str]:
        """The job's complete output lines so far (a line still being written is left for later)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path else ""
        except OSError:
            return []
        return text[:text.rfind("\n") + 1].splitlines()

    def _open_session_log(self):
        """The session the job records, once it said which (None until then)."""
        from core.sessions.reader import SessionLog

        for line in self._output_lines():
            if line.startswith(RECORDING_LINE):
                self.session_folder = Path(line[len(RECORDING_LINE):].strip())
                log = SessionLog(self.session_folder)
                log.refresh()
                return log
        return None

    def _event_of(self, record: dict[str, Any]) -> ev.Event | None:
        try:
            event = ev.from_record(record)
        except (TypeError, KeyError, ValueError):
            return None  # a damaged line: the session's own reader reports it on replay
        if isinstance(event, ev.CheckpointSaved):
            # (folder, step): last/ and best/ are saved again into the same folder
            self._latest_checkpoint = (event.path, event.step)
        return event

    def _final_event(self, recorded: ev.Event | None, code: int) -> ev.Event:
        """The run's terminal event: the recorded one, with the launcher's line when a rank failed
        (rank 0 only knows it lost the others; the launcher names the rank and why)."""
        errors = [line[len(ERROR_PREFIX):] for line in self._output_lines() if line.startswith(ERROR_PREFIX)]
        if isinstance(recorded, (ev.TrainingFinished, ev.TrainingCancelled)):
            return recorded
        if isinstance(recorded, ev.TrainingFailed):
            if errors and errors[-1] not in recorded.message:
                return ev.TrainingFailed(errors[-1], recorded.hint or f"the job's output: {self.log_path}",
                                         recorded.step, recorded.epoch)
            return recorded
        if code >= 128 or code < 0:  # a signal stopped it before rank 0 recorded how the run ended
            number = code - 128 if code >= 128 else -code
            if not errors and number in (signal.SIGTERM, signal.SIGINT):
                return ev.TrainingCancelled(epoch=0, step=0)
            return ev.TrainingFailed(f"the training job was stopped by signal {number} before it recorded a result",
                                     f"the job's output: {self.log_path}")
        message = errors[-1] if errors else f"the training job exited with code {code} without a result"
        return ev.TrainingFailed(message, f"the job's output: {self.log_path}")

    def _finish(self, event: ev.Event) -> None:
        self.outcome = event
        self.on_event(event)
