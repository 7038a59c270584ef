"""Which session a training run is recorded in, and which folder its checkpoints go to.

One policy for `twb train --session` and the workbench (tui/session_recording.py):

- A new run starts a new session ``<date-time>-<name>``; its checkpoints go to the session's
  ``checkpoints/`` folder.
- A resumed run appends to the session whose ``checkpoints/`` holds the checkpoint, and keeps
  writing next to that checkpoint. When the user named a session (`--session NAME`), the
  checkpoint's session is used only if it answers to that name; otherwise the newest session of
  that name is appended to (its ``checkpoints/`` then receives the run), else a new one starts.
- A session another process is writing is never appended to: the run gets a new session and a
  note says so.
- An out dir the user gave always wins for the checkpoints.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError
from core.sessions import names
from core.sessions.recorder import SessionRecorder


@dataclass
class RunTarget:
    recorder: SessionRecorder
    # None: the trainer keeps writing next to the resumed checkpoint (its own default).
    out_dir: Path | None
    appended: bool  # the run continues an existing session
    notes: list[str] = field(default_factory=list)  # what the user should know about the choice


def open_run_target(root: str | os.PathLike | None, new_name: str, resume_from: str | os.PathLike | None = None,
                    out_dir: str | os.PathLike | None = None, named: str | None = None) -> RunTarget:
    """Open the session a run is recorded in (see the module docstring for the policy).

    ``new_name`` names a new session; ``named`` is the session the user asked for, if any.
    Raises UserError or OSError when no session can be created.
    """
    notes: list[str] = []
    existing = _session_to_append(root, resume_from, named, notes)
    recorder = None
    if existing is not None:
        try:
            recorder = SessionRecorder.resume(existing)
        except (UserError, OSError) as exc:  # another process holds it, or it cannot be appended to
            notes.append(f"session {existing.name} cannot be appended to ({exc}); recording a new session")
    appended = recorder is not None
    if recorder is None:
        recorder = SessionRecorder.create(new_name, root)
    if out_dir is not None:
        target_out: Path | None = Path(out_dir)
    elif appended and resume_from is not None and _inside(resume_from, recorder.checkpoints_dir):
        target_out = None
    else:
        target_out = recorder.checkpoints_dir
    return RunTarget(recorder, target_out, appended, notes)


def _session_to_append(root: str | os.PathLike | None, resume_from: str | os.PathLike | None,
                       named: str | None, notes: list[str]) -> Path | None:
    if resume_from is None:
        return None
    holder = names.session_of_checkpoint(resume_from)
    if holder is not None and (named is None or holder in names.sessions_named(named, holder.parent)):
        return holder
    if named is None:
        return None
    matches = names.sessions_named(named, root)
    note = names.choice_note(named, matches)
    if note:
        notes.append(note)
    return matches[-1] if matches else None


def _inside(path: str | os.PathLike, folder: Path) -> bool:
    resolved, folder = Path(path).expanduser().resolve(), folder.resolve()
    return resolved == folder or folder in resolved.parents
