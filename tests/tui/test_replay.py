"""`twb replay` and `twb attach`: the workbench panes on a recorded or a live session."""
import json

from core import config as cfg
from core.events import EpochCompleted
from core.sessions import SessionLog, SessionRecorder, names
from tests.synthetic_sessions import write_synthetic_session
from tui import cli as tui_cli
from tui.replay import SessionGrew, replay_app
from tui.screens.dialogs import ConfirmScreen, PromptScreen
from tui.widgets.curves import Curves

SIZE = (120, 36)


def viewer(folder, **kw):
    return replay_app(SessionLog.open(folder), install_signal_handlers=False, **kw)


def epoch_lines(app) -> list[str]:
    return [" ".join(line.split()[:2]) for line in app.log_pane.lines if line.startswith("Epoch ")]


def status(app) -> str:
    return str(app.query_one("#replay-status").render())


async def test_replay_opens_at_the_end_with_everything_the_session_recorded(tmp_path):
    config = cfg.with_field(cfg.preset("nano"), "train.lr", 0.0042)
    rec = write_synthetic_session(tmp_path, "full", epochs=3, steps_per_epoch=4, attention_every=5,
                                  console_every=6, config=config)
    app = viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.pause()
        assert epoch_lines(app) == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
        assert app.log_pane.state == "finished" and "confusion" in app.log_pane.report
        curves = app.query_one(Curves)
        assert len(curves.step_x) == 12 and curves.epochs == [1, 2, 3]
        assert app.form.config.train.lr == 0.0042 and app.form.disabled
        assert app.attention_pane.view.tokens == ["[CLS]", "a", "fine", "film"]
        assert app.console_pane.transcript[0].startswith("> [sentiment-analysis workbench] text 6")
        assert "finished" in status(app)
        assert f"record {len(app.controller.session)}/{len(app.controller.session)}" in status(app)


async def test_keys_move_the_cursor_and_the_panes_follow(tmp_path):
    rec = write_synthetic_session(tmp_path, "keys", epochs=3, steps_per_epoch=4, attention_every=5)
    app = viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.press("g")
        assert epoch_lines(app) == [] and app.query_one(Curves).step_x == []
        assert "replaying" in status(app)
        await pilot.press("e")  # straight to the end of the next epoch, no prompt
        assert not isinstance(app.screen, PromptScreen)
        assert epoch_lines(app) == ["Epoch 1/3"]
        await pilot.press("e")
        await pilot.pause()
        assert epoch_lines(app) == ["Epoch 1/3", "Epoch 2/3"]
        assert len(app.query_one(Curves).step_x) == 8
        await pilot.press("E")
        assert epoch_lines(app) == ["Epoch 1/3"]
        await pilot.press("e")
        before = app.controller.cursor.position
        await pilot.press("full_stop", "full_stop")
        assert app.controller.cursor.position == before + 2
        await pilot.press("comma")
        assert app.controller.cursor.position == before + 1
        await pilot.press("G")
        assert app.controller.cursor.at_end and epoch_lines(app)[-1] == "Epoch 3/3"


async def test_escape_leaves_replay_without_a_question(tmp_path):
    rec = write_synthetic_session(tmp_path, "esc", epochs=2, steps_per_epoch=2)
    app = viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await pilot.press("f4")  # from any pane
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (ConfirmScreen, PromptScreen))
        assert not app.is_running
    assert app.return_code == 0


async def test_replay_keeps_only_its_listed_actions(tmp_path):
    rec = write_synthetic_session(tmp_path, "acts", epochs=1, steps_per_epoch=2)
    app = viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Help (f1)" in titles and "Export (f9)" in titles
        assert not any(t.startswith(("Train (", "Resume (", "Load (", "Preset:", "Sessions (")) for t in titles), titles
        await pilot.press("ctrl+o")
        assert not isinstance(app.screen, PromptScreen)  # loading settings would change the record on show
        await pilot.press("f1")
        text = str(app.screen.query_one("#help-text").render())
        assert "Next epoch" in text and " e " in text and "escape / ctrl+d" in text and "f6" not in text


def spread_timestamps(folder, gap_s: float) -> None:
    """Pretend the records were written ``gap_s`` apart (a real run takes its time)."""
    path = folder / names.LOG_NAME
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for i, record in enumerate(records):
        record["ts"] = 1_000_000.0 + i * gap_s
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))


async def test_play_moves_forward_and_instant_jumps_to_the_end(tmp_path):
    rec = write_synthetic_session(tmp_path, "play", epochs=2, steps_per_epoch=3)
    spread_timestamps(rec.folder, 1.0)  # 10x: a record every 0.1 s
    app = viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.press("g", "space")
        assert app.controller.playing and 1 <= app.controller.cursor.position < app.controller.cursor.last and "playing 10x" in status(app)
        await pilot.press("space")
        assert not app.controller.playing
        for _ in range(10):
            await pilot.press("plus")
        assert "instant" in status(app)
        await pilot.press("space")
        assert app.controller.cursor.at_end and not app.controller.playing
        assert epoch_lines(app) == ["Epoch 1/2", "Epoch 2/2"]


async def test_replay_never_trains(tmp_path):
    rec = write_synthetic_session(tmp_path, "ro", epochs=1, steps_per_epoch=2)
    app = viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.press("f6")
        await pilot.pause()
        assert not app.training and app.trainer is None
        assert app.check_action("start_training", ()) is False


async def test_damaged_and_unknown_records_are_shown_not_hidden(tmp_path):
    rec = SessionRecorder.create("odd", tmp_path)
    rec.writer.write("FutureThing", value=1)
    rec.record_action("note", text="hello")
    rec.close()
    path = rec.folder / names.LOG_NAME
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(2, "{broken json\n")
    path.write_text("".join(lines))
    app = viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.pause()
        text = "\n".join(app.log_pane.lines)
        assert "line 3" in text and "{broken json" in text
        assert "unknown record 'FutureThing'" in text and '"value": 1' in text
        assert "problem(s)" in status(app)


async def test_attach_follows_a_live_writer_and_says_how_it_ended(tmp_path):
    rec = write_synthetic_session(tmp_path, "live", epochs=1, steps_per_epoch=2, end="none", close=False)
    app = viewer(rec.folder, follow=True)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.pause()
        assert "following" in status(app) and "running" in status(app)
        rec.on_event(EpochCompleted(epoch=2, total_epochs=2, train_loss=0.5, val_loss=0.6, val_accuracy=0.75,
                                    elapsed_s=1.0))
        app.controller.status_line.post_message(SessionGrew(writer_gone=False))  # what the watcher posts when the size changes
        await pilot.pause()
        assert epoch_lines(app) == ["Epoch 1/1", "Epoch 2/2"]
        rec.close("cancelled")
        for _ in range(100):  # the watcher thread notices the writer's lock go away
            if app.controller.ended_note:
                break
            await pilot.pause(0.05)
        assert "cancelled" in app.controller.ended_note and "cancelled" in status(app)
        assert any("[session] ended: cancelled" in line for line in app.log_pane.lines)
    assert SessionLog.open(rec.folder).status() == "cancelled"


async def test_detaching_leaves_the_writer_alone(tmp_path):
    rec = write_synthetic_session(tmp_path, "keep", epochs=1, steps_per_epoch=2, end="none", close=False)
    app = viewer(rec.folder, follow=True)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.press("ctrl+d")
    assert not rec.closed and SessionLog.open(rec.folder).status() == "running"
    rec.record_action("note", after="detach")
    rec.close()
    assert SessionLog.open(rec.folder).status() == "finished"


def test_replay_of_a_missing_session_is_a_one_line_error(tmp_path, capsys):
    assert tui_cli.main(["replay", "ghost", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no session 'ghost'" in err


def test_replay_of_an_empty_log_says_so(tmp_path, capsys):
    folder = tmp_path / "20260101-000000-empty"
    folder.mkdir()
    (folder / names.LOG_NAME).write_text("")
    assert tui_cli.main(["attach", str(folder)]) == 2
    assert "is empty" in capsys.readouterr().err


async def test_replayed_console_results_read_exactly_like_live_ones(sessions_dir, monkeypatch):
    from core.sessions.listing import list_sessions
    from tui import pipelines_adapter
    from tui.app import create_app
    from tui.replay import open_viewer

    answer = [{"token_str": "good", "score": 0.9}, {"token_str": "fine", "score": 0.05}]
    monkeypatch.setattr(pipelines_adapter, "unavailable_reason", lambda: None)
    monkeypatch.setattr(pipelines_adapter, "local_models", lambda: [])
    monkeypatch.setattr(pipelines_adapter, "run", lambda *args, **kw: pipelines_adapter.Outcome(answer))
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.panes_ready.wait()
        await app.workers.wait_for_complete()  # the task catalogue
        pane = app.console_pane
        pane.query_one("#console-task").value = "fill-mask"
        await pilot.pause()
        pane.query_one("#console-model").value = "my-model"
        pane.submit("a [MASK] film")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()  # the session records the exchange in a worker
        live = list(pane.transcript)
    assert live[0] == "> [fill-mask my-model] a [MASK] film" and "'good': 0.9000" in live[1]
    [session] = list_sessions(sessions_dir)
    replay = open_viewer(str(session.folder), install_signal_handlers=False)
    async with replay.run_test(size=SIZE):
        await replay.controller.opened.wait()
        assert replay.console_pane.transcript == live
