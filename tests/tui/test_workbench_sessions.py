"""The workbench records sessions: each run, the attention views looked at, the console's prompts,
the user's actions; ctrl+r opens the session picker. (conftest points $TWB_SESSIONS_DIR at tmp_path.)"""
import asyncio

from core.config import PRESETS
from core.sessions import SessionLog
from core.sessions.listing import list_sessions
from tui.app import create_app
from tui.session_picker import SessionPickerScreen
from core.sessions.names import session_of_checkpoint

from tui_fakes import ScriptedTrainer, last_trainer, make_view, wait_started


def records(folder, kind):
    return [r for _, r in SessionLog.open(folder).records(only={kind})]


def actions(folder):
    return [r["action"] for r in records(folder, "action")]


async def test_a_nano_run_is_a_finished_session_with_its_checkpoints_and_viewed_attention(sessions_dir):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "finished", app.log_pane.lines
        [run] = list_sessions(sessions_dir)  # what `twb sessions` lists
        assert run.status == "finished" and run.name.endswith("nano")
        assert run.epochs == 2 and run.total_epochs == 2 and run.best_val_accuracy is not None
        assert records(run.folder, "config")[0]["config"]["model"]["num_layers"] == 1
        assert [r["epoch"] for r in records(run.folder, "EpochCompleted")] == [1, 2]
        assert actions(run.folder) == ["start"]
        assert records(run.folder, "end")[-1]["status"] == "finished"
        # The run's checkpoints live in its session, where F8 resume finds them.
        assert (run.folder / "checkpoints" / "last" / "model.safetensors").is_file()
        assert session_of_checkpoint(run.folder / "checkpoints" / "last") == run.folder

        # After the run, the attention viewer's views go into one "workbench" session.
        await pilot.press("f4", *"a b c", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.attention_pane.view is not None, app.attention_pane.error
    [_, explore] = list_sessions(sessions_dir)
    assert explore.name.endswith("workbench") and explore.status == "finished"  # closed when the app quit
    [view] = records(explore.folder, "attention")
    assert view["text"] == "a b c" and view["layer"] == 0 and view["head"] == 0
    assert view["weights"]["shape"][:2] == [1, 2]  # nano: 1 layer, 2 heads
    assert records(run.folder, "attention") == []  # a finished run's session stays as it ended


async def test_cancel_is_recorded_with_a_cancelled_end_and_views_during_a_run_join_it(holding_factory, sessions_dir):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        assert await asyncio.to_thread(wait_started)
        assert last_trainer().out_dir == app.sessions.run.checkpoints_dir  # checkpoints into the session
        pane = app.attention_pane
        pane.post_message(pane.ViewReady(make_view(["[CLS]", "good", "film"]), "good film"))
        await pilot.pause()
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "cancelled"
    [run] = list_sessions(sessions_dir)  # no separate session: the view went into the running one
    assert run.status == "cancelled"
    assert actions(run.folder) == ["start", "cancel"]
    [view] = records(run.folder, "attention")
    assert view["text"] == "good film" and view["tokens"] == ["[CLS]", "good", "film"]


async def test_console_results_are_recorded_with_their_request(sessions_dir):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        pane = app.console_pane
        record = {"task": "fill-mask", "model": None, "inputs": "a [MASK] film", "params": {"top_k": 2},
                  "result": [{"token_str": "good", "score": 0.9}], "error": None, "latency_s": 0.25}
        pane.post_message(pane.ResultReady("good: 0.9000", ok=True, record=record))
        await pilot.pause()
        await app.workers.wait_for_complete()
    [explore] = list_sessions(sessions_dir)
    [console] = records(explore.folder, "console")
    assert {k: console[k] for k in record} == record


async def test_resuming_a_sessions_checkpoint_appends_to_that_session(holding_factory, sessions_dir):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        assert await asyncio.to_thread(wait_started)
        folder = app.sessions.run.folder
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        ScriptedTrainer.instances.clear()
        app.action_start_training(resume_from=str(folder / "checkpoints" / "last"))
        assert await asyncio.to_thread(wait_started)
        assert app.sessions.run.folder == folder
        await app.stop_training(interrupt=True)  # what SIGTERM/SIGHUP do
        await pilot.pause()
    [run] = list_sessions(sessions_dir)
    assert actions(run.folder) == ["start", "cancel", "resume", "interrupt"]
    assert run.status == "interrupted"


async def test_no_sessions_when_disabled(monkeypatch, holding_factory, sessions_dir):
    monkeypatch.setenv("TWB_NO_SESSIONS", "1")
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        assert await asyncio.to_thread(wait_started)
        assert last_trainer().out_dir is None  # the trainer's default: runs/<date-time>
        await pilot.press("f7")
        await app.workers.wait_for_complete()
    assert list_sessions(sessions_dir) == []


async def test_ctrl_r_opens_the_session_picker_listed_in_help_and_palette(holding_factory, sessions_dir):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        assert await asyncio.to_thread(wait_started)
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, SessionPickerScreen)
        assert [s.folder for s in app.screen.summaries] == [s.folder for s in list_sessions(sessions_dir)]
        await pilot.press("escape")
        assert not isinstance(app.screen, SessionPickerScreen)
        assert any("Sessions (ctrl+r)" in c.title for c in app.get_system_commands(app.screen))
        await pilot.press("f1")
        assert "Sessions" in str(app.screen.query_one("#help-text").render())


async def test_viewing_a_session_records_nothing(sessions_dir):
    from core.sessions import SessionRecorder
    from tui.replay import open_viewer

    with SessionRecorder.create("seen", sessions_dir, config=PRESETS["nano"]) as recorder:
        recorder.record_action("start")
    app = open_viewer(str(recorder.folder), install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        pane = app.attention_pane
        pane.post_message(pane.ViewReady(make_view(["[CLS]", "good"]), "good"))
        await pilot.pause()
        await app.workers.wait_for_complete()
    assert [s.folder for s in list_sessions(sessions_dir)] == [recorder.folder]
    assert records(recorder.folder, "attention") == []


def test_f9_offers_to_export_a_sessions_run_under_the_sessions_name(tmp_path):
    from pathlib import Path

    from tui.exporting import default_destination

    folder = tmp_path / "20261127-120000-nano"
    assert default_destination(str(folder / "checkpoints" / "best")) == str(Path("exports") / folder.name)
    assert default_destination(str(tmp_path / "runs" / "run1" / "best")) == str(Path("exports") / "run1")
