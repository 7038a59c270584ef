"""Explanations are recorded in the session and replayed as they were."""
from core.config import PRESETS
from core.explanation import Explanation, Faithfulness
from core.sessions import SessionLog
from core.sessions.listing import list_sessions
from tests.synthetic_sessions import write_synthetic_session
from tui.app import create_app
from tui.replay import replay_app
from tui.screens.explain import ExplainScreen

EXPLANATION = Explanation(
    tokens=["the", "film", "was", "not", "long"], target="negative",
    prediction={"negative": 0.97, "positive": 0.03},
    scores={"integrated_gradients": [-0.2, 0.1, 0.0, 4.5, -0.3], "grad_x_input": [0.0, 0.01, 0.0, 0.2, 0.0],
            "rollout": [0.1, 0.1, 0.1, 0.6, 0.1]},
    delta=0.012, steps=50,
    faithfulness={m: Faithfulness(1, 0.9, 0.01) for m in ("integrated_gradients", "grad_x_input", "rollout")},
    source="workbench model", text="the film was not long")


def readout(app) -> str:
    return str(app.query_one("#attn-readout").render())


async def test_an_explanation_on_show_is_recorded(sessions_dir, monkeypatch):
    import core.explain.text

    monkeypatch.setattr(core.explain.text, "explain_text", lambda clf, text, **options: EXPLANATION)
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        pane = app.attention_pane
        pane.text, pane.explainable = EXPLANATION.text, lambda: object()  # the sentence on show, its model
        await pilot.press("ctrl+t")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.explanation == EXPLANATION
        await app.workers.wait_for_complete()  # the recording worker
    [explore] = list_sessions(sessions_dir)
    [(_, record)] = SessionLog.open(explore.folder).records(only={"explanation"})
    assert Explanation.from_record(record) == EXPLANATION


async def test_replay_shows_the_recorded_explanation_as_it_was(tmp_path):
    rec = write_synthetic_session(tmp_path, "explained", epochs=1, steps_per_epoch=2, close=False)
    rec.record_explanation(EXPLANATION)
    rec.close()
    app = replay_app(SessionLog.open(rec.folder), install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.pause()
        assert "explanation recorded for 'the film was not long'" in readout(app)
        await pilot.press("ctrl+t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExplainScreen) and screen.explanation == EXPLANATION
        assert "predicts negative" in str(screen.query_one("#explain-header").render())
        assert "delta +0.0120" in str(screen.query_one("#explain-readout").render())
        await pilot.press("c")  # no model in a replay: nothing is recomputed
        await app.workers.wait_for_complete()
        assert screen.explanation == EXPLANATION


async def test_a_damaged_explanation_record_is_shown_not_hidden(tmp_path):
    rec = write_synthetic_session(tmp_path, "damaged", epochs=1, steps_per_epoch=2, close=False)
    broken = EXPLANATION.to_record()
    broken["scores"] = {"rollout": [0.5]}  # one score for five tokens
    rec._write("explanation", broken)
    rec.close()
    app = replay_app(SessionLog.open(rec.folder), install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.pause()
        assert "explanation record could not be decoded" in readout(app) and "1 scores for 5 tokens" in readout(app)
