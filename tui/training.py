"""How the workbench starts the engine's Trainer (called in the training worker thread)."""
from __future__ import annotations

from pathlib import Path

from core.config import RunConfig


def leave_a_core_for_the_ui() -> None:
    """Train on one core fewer than the process may use (called in the training thread).

    torch's CPU threads busy-wait for each other; when the UI thread wakes up (a key, a
    repaint) it takes a core from one of them and the others spin waiting for it, which costs
    far more than the one thread given up. OMP_NUM_THREADS, when set, is respected as is.
    """
    import os

    import torch

    from core.training.devices import available_cores

    if os.environ.get("OMP_NUM_THREADS"):
        return
    torch.set_num_threads(max(1, min(torch.get_num_threads(), available_cores() - 1)))


def checkpoint_config(resume_from: str, fallback: RunConfig) -> RunConfig:
    """The settings a checkpoint was trained with: a resumed run keeps them, whatever the form
    shows now (the trainer refuses other model settings). ``fallback`` when the checkpoint
    cannot be read; the trainer then reports why, in the training log."""
    from core.errors import UserError

    try:
        from core.training.checkpoint import read_config  # torch loads here, in the worker thread
        return read_config(resume_from)
    except (ImportError, UserError, KeyError, TypeError, ValueError):
        return fallback


def default_trainer_factory(config: RunConfig, on_event, out_dir=None, resume_from=None):
    """The engine's Trainer, writing checkpoints where `twb train` would (a new runs/<date-time>)."""
    from core.training.checkpoint import resolve_checkpoint  # torch loads here, in the worker thread
    from core.errors import UserError
    from core.training.run_folder import DEFAULT_ROOT, choose_run_folder
    from core.training.trainer import Trainer

    if resume_from is not None:
        try:
            resume_from = resolve_checkpoint(resume_from)
        except UserError:
            pass  # the Trainer reports it as TrainingFailed, in the training log
    if out_dir is None:
        try:
            out_dir = choose_run_folder(None, resume_from)
        except UserError:
            # The Trainer checks its folder again and reports the same problem as TrainingFailed.
            out_dir = Path(resume_from).parent if resume_from is not None else DEFAULT_ROOT
    leave_a_core_for_the_ui()
    return Trainer(config, on_event, out_dir=out_dir, resume_from=resume_from)


def job_trainer(config: RunConfig, on_event, sessions, resume_from=None, out_dir=None):
    """A data-parallel run (train.nproc_per_node > 1) or one in a child process (train.child_process):
    `twb train` as a child job that records a session, followed through it
    (core.commands.train_job). With session recording
    off the job still records, in a temporary folder: the session is how the workbench follows it."""
    import tempfile

    from core.commands.train_job import TrainJob
    from tui.session_recording import run_name

    root = sessions.root if sessions.enabled else tempfile.mkdtemp(prefix="twb-job-sessions-")
    return TrainJob(config, on_event, sessions_root=root, session_name=run_name(config),
                    resume_from=resume_from, out_dir=out_dir)
