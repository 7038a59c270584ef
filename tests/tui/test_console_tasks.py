"""The console's task switching and its lazy start: what a user sees when flipping between
tasks and how little the workbench loads before the console is used."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from hf_fixtures import shared_tiny_models  # noqa: E402

from tui.app import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return shared_tiny_models(tmp_path_factory)


async def test_switching_between_tasks_that_share_fields_then_running_one(tiny):
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.panes_ready.wait()
        await app.workers.wait_for_complete()
        await pilot.press("f5")
        task = app.query_one("#console-task")
        # text-classification, sentiment-analysis and fill-mask all have a top_k field; the last
        # two switches come without a pause in between.
        for name in ("sentiment-analysis", "fill-mask", "text-classification", "sentiment-analysis"):
            task.value = name
            if name != "fill-mask":
                await pilot.pause()
        await pilot.pause()
        assert app.is_running
        console = app.console_pane
        assert console.task_name == "sentiment-analysis"
        assert len(app.query("#param-top_k")) == 1
        app.query_one("#param-top_k").value = "2"
        app.query_one("#console-model").value = str(tiny["bert-cls"])
        app.query_one("#console-prompt").focus()
        app.query_one("#console-prompt").value = "I love this movie"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        lines = console.transcript[-1].splitlines()
        assert sorted(line.split(": ")[0] for line in lines) == ["NEGATIVE", "POSITIVE"], console.transcript


# Run in a fresh interpreter: in this one, other tests have loaded torch already.
PROBE = """
import asyncio, json, sys
from tui.app import create_app

def loaded():
    return {m: m in sys.modules for m in ("torch", "transformers", "huggingface_hub")}

async def main():
    app = create_app(install_signal_handlers=False)
    out = {}
    async with app.run_test(size=(100, 30)) as pilot:
        await app.panes_ready.wait()
        await app.workers.wait_for_complete()
        await pilot.pause()
        out["ready"] = loaded()
        out["tasks"] = len(app.query_one("#console-task")._options)
        out["models_before"] = list(app.console_pane.models)
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        out["models_after"] = list(app.console_pane.models)
        out["after_focus"] = loaded()
    print(json.dumps(out))

asyncio.run(main())
"""


def test_ready_panes_load_no_torch_and_models_list_on_first_console_focus(tmp_path):
    env = {**__import__("os").environ, "TWB_DATA_DIR": str(tmp_path / "data"), "HF_HUB_CACHE": str(tmp_path / "hf")}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ready"] == {"torch": False, "transformers": False, "huggingface_hub": False}
    assert out["tasks"] > 10  # the task list is there without the model listing
    assert out["models_before"] == []
    assert "all-MiniLM-L6-v2" in out["models_after"]  # the packaged model, listed once the console is used
    assert out["after_focus"]["torch"] is False and out["after_focus"]["transformers"] is False


def test_the_adapter_hands_back_the_tasks_own_text_and_passes_trust_on(tiny, monkeypatch):
    from core.hf import pipelines as core_pipelines
    from tui import pipelines_adapter

    outcome = pipelines_adapter.run("question-answering", str(tiny["bert-qa"]), "Where?",
                                    {"context": "Paris is in France .", "top_k": 2})
    assert outcome.text == pipelines_adapter.format_result(outcome.result)
    assert len(outcome.text.splitlines()) == 2 and "(score " in outcome.text
    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs)
        raise core_pipelines.PipelineCancelled()

    monkeypatch.setattr(core_pipelines, "run_pipeline", fake)
    assert pipelines_adapter.run("text-classification", None, "hi", {}, trust_remote_code=True).cancelled
    assert seen["trust_remote_code"] is True
