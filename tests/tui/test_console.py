"""The pipeline console: task fields from the engine, prompt history, results, no pipelines."""
from tui import pipelines_adapter
from tui.app import create_app
from tui.widgets.history_input import HistoryInput


async def test_prompt_runs_the_task_and_history_recalls_it(monkeypatch):
    calls = []

    def fake_run(task, model, prompt, params, cancel=None):
        calls.append((task, model, prompt, params))
        return pipelines_adapter.Outcome([{"label": "POSITIVE", "score": 0.9876}], ("input truncated",), "m (workbench, 0.1 s)")

    monkeypatch.setattr(pipelines_adapter, "run", fake_run)
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.workers.wait_for_complete()  # the task catalogue loads in a worker
        await pilot.pause()
        console = app.console_pane
        assert console.available, console.reason
        assert console.task_name == "text-classification"
        await pilot.press("f5")
        app.query_one("#console-prompt").focus()
        await pilot.press(*"I love this", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [c[:3] for c in calls] == [("text-classification", "", "I love this")]
        assert console.transcript[-1] == "POSITIVE: 0.9876\nnote: input truncated"
        prompt = app.query_one("#console-prompt", HistoryInput)
        assert prompt.value == ""
        await pilot.press("up")
        assert prompt.value == "I love this"
        await pilot.press("down")
        assert prompt.value == ""


async def test_task_fields_follow_the_chosen_task():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.query_one("#console-task").value = "question-answering"
        await pilot.pause()
        names = [f.name for f in app.console_pane.fields]
        assert "context" in names
        assert app.query_one("#param-context")
        assert str(app.query_one("#console-label").render()) == pipelines_adapter.input_label("question-answering")


async def test_without_pipelines_the_console_says_so(monkeypatch):
    monkeypatch.setattr(pipelines_adapter, "unavailable_reason", lambda: "pipelines not available (test)")
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "pipelines not available" in str(app.query_one("#console-status").render())
        app.query_one("#console-prompt").focus()
        await pilot.press(*"hi", "enter")
        assert "pipelines not available (test)" in app.console_pane.transcript


async def test_long_results_wrap_at_80_columns_without_losing_characters(monkeypatch):
    answer = "a translated sentence that is much longer than one line of an eighty column terminal " * 3

    def fake_run(task, model, prompt, params, cancel=None):
        return pipelines_adapter.Outcome([{"translation_text": answer.strip()}], (), "m (workbench, 0.1 s)")

    monkeypatch.setattr(pipelines_adapter, "run", fake_run)
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.workers.wait_for_complete()
        await pilot.press("f5")
        app.query_one("#console-prompt").focus()
        await pilot.press(*"go", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        history = app.query_one("#console-history")
        width = history.scrollable_content_region.width
        shown = history.rendered_lines()
        assert len(shown) > 3 and all(len(line) <= width for line in shown)
        assert "".join(answer.split()) in "".join("".join(shown).split())
