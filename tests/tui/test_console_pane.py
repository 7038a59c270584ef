"""The pipeline console end to end with real (tiny, offline) models: no fakes between the pane
and core.hf.pipelines."""
import sys
from pathlib import Path

import pytest

# The tiny-model builders live with the engine's tests; one module name, so the models are
# built once per test session whichever suite asks first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from hf_fixtures import shared_tiny_models  # noqa: E402

from tui.app import create_app  # noqa: E402


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return shared_tiny_models(tmp_path_factory)


async def run_in_console(app, pilot, task: str, model: str, prompt: str, params: dict | None = None) -> str:
    await app.panes_ready.wait()
    await app.workers.wait_for_complete()  # the task catalogue loads in a worker
    await pilot.press("f5")
    app.query_one("#console-task").value = task
    await pilot.pause()
    for name, value in (params or {}).items():
        app.query_one(f"#param-{name}").value = value
    app.query_one("#console-model").value = model
    app.query_one("#console-prompt").focus()
    app.query_one("#console-prompt").value = prompt
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.console_pane.transcript[-1]


async def test_console_runs_text_classification_on_a_local_model(tiny):
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        shown = await run_in_console(app, pilot, "text-classification", str(tiny["bert-cls"]), "I love this movie")
        label, score = shown.split(": ")
        assert label in {"NEGATIVE", "POSITIVE"} and 0.0 <= float(score) <= 1.0
        assert "done" in str(app.query_one("#console-status").render())


async def test_console_answers_a_question_from_its_context_field(tiny):
    context = "The capital of France is Paris ."
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        shown = await run_in_console(app, pilot, "question-answering", str(tiny["bert-qa"]),
                                     "What is the capital of France?", {"context": context})
        answer = shown.rsplit(" (score ", 1)[0]
        assert answer and answer in context


async def test_console_shows_an_offline_model_error_in_one_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        shown = await run_in_console(app, pilot, "translation_en_to_fr", "twb-tests/no-such-model", "Hello")
        assert shown.startswith("error: model 'twb-tests/no-such-model' is not available offline")
        assert "\n" not in shown and "Traceback" not in shown
        assert app.is_running  # the app survived


def test_results_of_every_shape_read_as_plain_lines():
    from tui.pipelines_adapter import format_result

    assert format_result({"shape": [1, 4, 384], "tokens": ["[CLS]", "hi", "!", "[SEP]"]}) == \
        "hidden states 1x4x384: [CLS] hi ! [SEP]"
    assert format_result({"sequence": "s", "labels": ["travel", "food"], "scores": [0.75, 0.25]}) == \
        "travel: 0.7500\nfood: 0.2500"
    assert format_result([{"entity_group": "PER", "score": 0.5, "word": "Clara", "start": 0, "end": 5}]) == \
        "Clara -> PER: 0.5000"
    assert format_result([{"translation_text": "Bonjour"}]) == "Bonjour"
    assert format_result({"score": 0.5, "start": 0, "end": 5, "answer": "Paris"}) == "Paris (score 0.5000)"
