"""Tasks as runner objects found in a registry, and the refusals a user meets at the edges."""
import json
import shutil
from pathlib import Path

import pytest

from core.cli import main
from core.errors import UserError
from core.hf.pipelines import TASKS, run_pipeline, run_task
from core.hf.pipelines.models import resolve_model

pytestmark = pytest.mark.usefixtures("private_data_dir")

RUNNERS_DIR = Path(__file__).resolve().parents[2] / "core" / "hf" / "pipelines" / "runners"


def test_every_task_is_one_runner_module_in_the_registry():
    from core.hf.pipelines.runners import RUNNERS

    modules = sorted(p.stem for p in RUNNERS_DIR.glob("*.py") if p.stem != "__init__")
    assert sorted(r.__module__.rsplit(".", 1)[1] for r in RUNNERS.values()) == modules
    assert list(TASKS) == list(RUNNERS) and TASKS["question-answering"] is RUNNERS["question-answering"].spec
    assert list(TASKS)[0] == "text-classification"  # the console's first task


def test_a_runner_returns_its_notices_with_its_result(tiny):
    from core.hf.pipelines.runners import RUNNERS

    runner = RUNNERS["text-classification"](resolve_model(str(tiny["bert-cls"]), ""), False).load()
    first = runner.run("great movie " * 100, {})
    assert any("truncated" in n for n in first.notices)
    assert runner.run("great movie", {}).notices == ()  # nothing left over from the last run


def test_the_result_comes_formatted_by_its_task(tiny):
    run = run_pipeline("question-answering", str(tiny["bert-qa"]), "Where?",
                       {"context": "Paris is in France .", "top_k": 2})
    assert run.text.splitlines()[0] == f"{run.result[0]['answer']} (score {run.result[0]['score']:.4f})"
    assert len(run.text.splitlines()) == 2


def test_trust_remote_code_as_a_param_is_refused(tiny, capsys):
    with pytest.raises(UserError) as err:
        run_task("text-classification", str(tiny["bert-cls"]), "hi", {"trust_remote_code": True})
    assert "trust_remote_code is not a task parameter" in err.value.message and "--trust-remote-code" in err.value.hint
    code = main(["pipeline", "text-classification", "--model", str(tiny["bert-cls"]), "--param",
                 "trust_remote_code=true", "hi"])
    err_text = capsys.readouterr().err
    assert code == 2 and err_text.count("\n") == 1 and "trust_remote_code" in err_text


def test_a_folder_without_tokenizer_files_is_refused(tiny, tmp_path):
    folder = tmp_path / "weights-only"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny["bert-cls"] / name, folder / name)
    for task, text, params in [("text-classification", "hello", {}),
                               ("question-answering", "who?", {"context": "me"})]:
        with pytest.raises(UserError, match="has no tokenizer files"):
            run_task(task, str(folder), text, params)
    from core.hf.attention import hf_attention

    with pytest.raises(UserError, match="has no tokenizer files"):
        hf_attention(str(folder), "hello")


@pytest.mark.parametrize("task", ["summarization", "translation_en_to_fr", "text2text-generation"])
def test_a_bert_for_a_seq2seq_task_is_named_not_seq2seq(tiny, task):
    with pytest.raises(UserError) as err:
        run_task(task, str(tiny["bert-cls"]), "a long text")
    assert "is not a sequence-to-sequence model" in err.value.message
    assert "upgrade" not in str(err.value)


def test_feature_extraction_on_a_workbench_export_says_what_to_use(tmp_path):
    from core.hf.export import export_checkpoint
    from test_export import make_checkpoint

    exported = export_checkpoint(make_checkpoint(tmp_path / "ckpt"), tmp_path / "exported")
    with pytest.raises(UserError) as err:
        run_task("feature-extraction", str(exported), "hello")
    assert "is not a transformers base model" in err.value.message and "text-classification" in err.value.message
    assert "upgrade" not in str(err.value)


def test_every_listed_model_name_is_accepted_as_model(tiny, tmp_path, monkeypatch, capsys):
    from core.hf.pipelines.models import remember_export

    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny["bert-cls"], tmp_path / "models" / "my-bert")
    remember_export(shutil.copytree(tiny["bert-cls"], tmp_path / "elsewhere" / "my-export"))
    assert main(["pipeline", "--list-models"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"my-bert", "my-export"} <= set(names)
    for name in names:
        assert resolve_model(name, "").location  # every listed name resolves
    assert main(["pipeline", "sentiment-analysis", "--model", "my-export", "good"]) == 0
    assert set(json.loads(capsys.readouterr().out)[0]) == {"label", "score"}
