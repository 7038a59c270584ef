"""The replay cursor, without the terminal UI."""

import pytest

from core import config as cfg
from core.events import RunStarted
from core.sessions import SessionLog, SessionRecorder
from core.sessions.cursor import ReplayCursor
from tests.synthetic_sessions import write_synthetic_session


@pytest.fixture
def replay(tmp_path):
    rec = write_synthetic_session(tmp_path, "r", epochs=3, steps_per_epoch=4, attention_every=3, console_every=5)
    return ReplayCursor(SessionLog.open(rec.folder))


def test_cursor_opens_at_the_end_and_jumps_to_start_epochs_and_end(replay):
    assert replay.at_end and replay.status() == "finished"
    assert len(replay.epochs()) == 3 and replay.curve_length() == 12
    replay.to_start()
    assert replay.epochs() == [] and replay.curve_length() == 0 and replay.config() is None
    assert replay.status() == "replaying"
    replay.to_epoch(2)
    assert [e["epoch"] for e in replay.epochs()] == [1, 2] and list(replay.curves()["step"]) == list(range(1, 9))
    assert replay.to_epoch(7) is None
    replay.step(-1)
    assert [e["epoch"] for e in replay.epochs()] == [1]
    replay.to_end()
    assert replay.at_end


def test_panes_show_the_state_as_of_the_cursor(replay):
    log = replay.log
    replay.seek(log.attention_index[1])
    first_attention = replay.attention()
    assert first_attention.index == log.attention_index[1]
    replay.step(-1)
    assert replay.attention().index == log.attention_index[0]
    console = replay.console()
    assert all(i <= replay.position for i, _ in console) and console
    recent = replay.recent(limit=3)
    assert [i for i, _ in recent] == sorted(i for i, _ in recent) and recent[-1][0] <= replay.position


def test_config_shown_is_the_one_in_force_at_the_cursor(tmp_path):
    rec = SessionRecorder.create("two runs", tmp_path)
    for lr in (0.01, 0.002):
        config = cfg.with_field(cfg.preset("nano"), "train.lr", lr)
        rec.on_event(RunStarted(config=cfg.to_dict(config), device="cpu", label_names=["a", "b"], num_train=2,
                                num_val=2, total_epochs=1, steps_per_epoch=1, num_parameters=1))
    rec.close()
    cursor = ReplayCursor(SessionLog.open(rec.folder))
    runs = [i for i, _ in cursor.log.runs]
    cursor.seek(runs[0])
    assert cursor.config()["train"]["lr"] == 0.01
    cursor.seek(runs[1])
    assert cursor.config()["train"]["lr"] == 0.002


def test_play_speed_scales_the_recorded_gaps(replay):
    replay.to_start()
    log = replay.log
    gap = log.ts[1] - log.ts[0]
    assert replay.delay_to_next(1.0) == pytest.approx(min(gap, 2.0))
    assert replay.delay_to_next(100.0) == pytest.approx(min(gap / 100, 2.0))
    assert replay.delay_to_next(None) == 0.0


