"""Sessions: every run recorded crash-safe as JSON Lines, replayable, and attachable live.

- ``SessionRecorder`` (recorder.py): plug ``recorder.on_event`` into the trainer; record
  actions, attention views and console prompts; ``close(status)``.
- ``SessionLog`` (reader.py): open a log as an index plus small derived state, read lazily;
  records.py checks each record, curves.py keeps the chart points.
- ``ReplayCursor`` (cursor.py): the state of a session as of a record, for the replay view.
- run_target.py: which session and checkpoint folder a training run writes to (CLI and workbench).
- listing.py (`twb sessions`), export.py (CSV), names.py (folders), schema.py (the format).
"""
import importlib

# Names resolve on first use: the workbench imports core.sessions.names for its first frame,
# and the reader pulls in numpy, which that frame does not need.
_EXPORTS = {
    "resolve_session": "names", "sanitize_name": "names",
    "sessions_root": "names", "Problem": "records", "SessionLog": "reader", "open_session": "reader",
    "SessionRecorder": "recorder", "SCHEMA_VERSION": "schema", "SessionError": "schema",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"core.sessions.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'core.sessions' has no attribute {name!r}")


__all__ = [
    "SessionRecorder", "SessionLog", "Problem", "SessionError", "SCHEMA_VERSION",
    "open_session", "resolve_session", "sanitize_name", "sessions_root",
]
