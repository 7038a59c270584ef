"""Which session a run records into and where its checkpoints go: one policy, core.sessions.run_target."""
from pathlib import Path

import pytest

from core.sessions import SessionLog, names
from core.sessions.run_target import open_run_target
from tests.synthetic_sessions import write_synthetic_session


def checkpoint_in(session: Path, kind: str = "last") -> Path:
    folder = session / names.CHECKPOINTS_DIR / kind
    folder.mkdir(parents=True)
    return folder


def test_a_new_run_gets_a_new_session_and_writes_checkpoints_into_it(tmp_path):
    target = open_run_target(tmp_path, "baseline")
    target.recorder.close()
    assert not target.appended and target.notes == []
    assert names.user_name(target.recorder.folder.name) == "baseline"
    assert target.out_dir == target.recorder.folder / "checkpoints"


def test_resuming_a_checkpoint_of_a_session_appends_to_it_and_writes_next_to_the_checkpoint(tmp_path):
    session = write_synthetic_session(tmp_path, "exp", epochs=1).folder
    last = checkpoint_in(session)
    for named in (None, "exp", session.name):  # the workbench names none; the CLI its --session
        target = open_run_target(tmp_path, "exp", resume_from=last, named=named)
        target.recorder.close()
        assert target.appended and target.recorder.folder.resolve() == session.resolve()
        assert target.out_dir is None
    assert names.list_session_dirs(tmp_path) == [session]
    assert len(SessionLog.open(session).reopens) == 3


def test_a_checkpoint_of_another_session_goes_to_the_named_session_or_a_new_one(tmp_path):
    old = write_synthetic_session(tmp_path, "old", epochs=1).folder
    other = write_synthetic_session(tmp_path, "other", epochs=1).folder
    last = checkpoint_in(old)

    into_other = open_run_target(tmp_path, "other", resume_from=last, named="other")
    into_other.recorder.close()
    assert into_other.appended and into_other.recorder.folder == other
    assert into_other.out_dir == other / "checkpoints"  # not next to another session's checkpoint

    fresh = open_run_target(tmp_path, "fresh", resume_from=last, named="fresh")
    fresh.recorder.close()
    assert not fresh.appended and names.user_name(fresh.recorder.folder.name) == "fresh"
    assert fresh.out_dir == fresh.recorder.folder / "checkpoints"


def test_a_session_another_process_writes_is_not_appended_to(tmp_path):
    live = write_synthetic_session(tmp_path, "live", epochs=1, end="none", close=False)  # still holds its lock
    last = checkpoint_in(live.folder)
    target = open_run_target(tmp_path, "live", resume_from=last)
    target.recorder.close()
    live.close()
    assert not target.appended and target.recorder.folder != live.folder
    assert target.out_dir == target.recorder.folder / "checkpoints"
    assert "being written by another process" in target.notes[0] and "new session" in target.notes[0]


def test_an_out_dir_given_by_the_user_wins(tmp_path):
    session = write_synthetic_session(tmp_path, "exp", epochs=1).folder
    target = open_run_target(tmp_path, "exp", resume_from=checkpoint_in(session), out_dir=tmp_path / "mine")
    target.recorder.close()
    assert target.appended and target.out_dir == tmp_path / "mine"


@pytest.mark.parametrize("name", ["Résumé-日本", "Ελληνικά", "हिन्दी"])
def test_session_names_keep_letters_of_any_script(tmp_path, name):
    recorder = write_synthetic_session(tmp_path, name, epochs=1)
    assert names.user_name(recorder.folder.name) == name
    assert recorder.folder.resolve().parent == tmp_path.resolve()
    assert names.resolve_session(name, tmp_path) == recorder.folder


def test_look_alike_separators_are_replaced_like_the_real_ones():
    assert names.sanitize_name("a\uff0fb\u2215c") == "a-b-c"  # full-width solidus, division slash
    assert names.sanitize_name("x\u200by") == "x-y"  # an invisible format character
