"""Sessions: every run recorded crash-safe as JSON Lines, replayable, and attachable live.

- ``SessionRecorder`` (recorder.py): plug ``recorder.on_event`` into the trainer; record
  actions, attention views and console prompts; ``close(status)``.
- ``SessionLog`` (reader.py): open a log as an index plus small derived state, read lazily.
- ``SessionFollower`` (follow.py): follow a session another process writes.
- ``ReplayCursor`` (cursor.py): the state of a session as of a record, for the replay view.
- listing.py (`twb sessions`), export.py (CSV), names.py (folders), schema.py (the format).
"""
from core.sessions.follow import SessionFollower
from core.sessions.names import resolve_session, sanitize_name, sessions_root
from core.sessions.reader import Problem, SessionLog, open_session
from core.sessions.recorder import SessionRecorder
from core.sessions.schema import SCHEMA_VERSION, SessionError

__all__ = [
    "SessionRecorder", "SessionLog", "SessionFollower", "Problem", "SessionError", "SCHEMA_VERSION",
    "open_session", "resolve_session", "sanitize_name", "sessions_root",
]
