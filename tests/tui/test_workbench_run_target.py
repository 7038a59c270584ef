"""The workbench picks a run's session and checkpoint folder with the CLI's policy (core.sessions.run_target)."""
from core.config import preset
from core.sessions import names
from tests.synthetic_sessions import write_synthetic_session
from tui.session_recording import WorkbenchSessions


def test_the_workbench_uses_the_same_policy(tmp_path):
    session = write_synthetic_session(tmp_path, "exp", epochs=1).folder
    checkpoint = session / names.CHECKPOINTS_DIR / "last"
    checkpoint.mkdir(parents=True)
    sessions = WorkbenchSessions(tmp_path, enabled=True)
    assert sessions.open_run(preset("nano"), str(checkpoint), None) is None
    assert sessions.run.folder.resolve() == session.resolve()
    sessions.close_run()
    out = sessions.open_run(preset("nano"), None, None)
    assert out == sessions.run.folder / "checkpoints" and names.user_name(sessions.run.folder.name) == "nano"
    sessions.close_run()
