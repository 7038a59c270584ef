"""What the user sees when something is wrong: one line naming the thing and the fix."""
import json

import pytest

from core.cli import main
from core.errors import UserError
from core.hf.pipelines import resolve_task, run_task, task_fields


def test_unknown_task_suggests_the_closest_names():
    with pytest.raises(UserError) as err:
        resolve_task("sentiment-analisys")
    assert "unknown task 'sentiment-analisys'" in err.value.message
    assert "sentiment-analysis" in err.value.hint


def test_aliases_and_translation_pairs_resolve():
    assert resolve_task("sentiment-analysis").spec.name == "text-classification"
    assert resolve_task("ner").spec.name == "token-classification"
    pair = resolve_task("translation_en_to_fr")
    assert pair.spec.name == "translation" and pair.implied == {"src_lang": "en", "tgt_lang": "fr"}


def test_removed_tasks_are_marked_as_workbench_implemented():
    from core.hf.pipelines import TASKS

    removed = {name for name, spec in TASKS.items() if not spec.native}
    assert removed == {"translation", "summarization", "text2text-generation", "question-answering"}


def test_task_fields_describe_extra_inputs():
    qa = {f.name: f for f in task_fields("question-answering")}
    assert qa["context"].required and qa["context"].kind == "longtext"
    assert resolve_task("question-answering").spec.input_label == "Question"
    assert {f.name for f in task_fields("translation")} >= {"src_lang", "tgt_lang"}
    assert "max_new_tokens" in {f.name for f in task_fields("text-generation")}
    assert "top_k" in {f.name for f in task_fields("fill-mask")}


def test_offline_hub_model_not_in_cache_is_one_line_naming_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError) as err:
        run_task("text-classification", "twb-tests/no-such-model", "hello")
    assert "'twb-tests/no-such-model' is not available offline" in err.value.message
    assert "folder" in err.value.hint and "once" in err.value.hint
    assert "\n" not in str(err.value)


def test_offline_default_model_is_named(monkeypatch):
    from core.pretrained import sources as models

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "is_cached", lambda repo_id: False)
    with pytest.raises(UserError, match="distilbert/distilbert-base-uncased-finetuned-sst-2-english"):
        run_task("sentiment-analysis", None, "hello")
    with pytest.raises(UserError, match="distilbert-base-cased-distilled-squad"):
        run_task("question-answering", None, "who?", {"context": "me"})


def test_missing_folder_and_folder_without_config(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        run_task("text-classification", str(tmp_path / "nope"), "hello")
    with pytest.raises(UserError, match="no config.json"):
        run_task("text-classification", str(tmp_path), "hello")


def test_model_needing_remote_code_is_refused_unless_trusted(tmp_path):
    for name, config in {
        "custom-type": {"model_type": "twb-test-custom", "auto_map": {"AutoConfig": "configuration_x.XConfig"}},
        "known-type": {"model_type": "bert", "auto_map": {"AutoModel": "modeling_x.XModel"}},
    }.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
        with pytest.raises(UserError) as err:
            run_task("text-classification", str(folder), "hello")
        assert "needs trust_remote_code" in err.value.message and str(folder) in err.value.message
        assert "--trust-remote-code" in err.value.hint


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_prompt_is_refused(text, tiny):
    with pytest.raises(UserError, match="input is empty"):
        run_task("text-classification", str(tiny["bert-cls"]), text)


def test_missing_image_file(tiny, tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        run_task("image-classification", str(tiny["vit"]), str(tmp_path / "cat.png"))
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    with pytest.raises(UserError, match="not an image"):
        run_task("image-classification", str(tiny["vit"]), str(not_image))


def test_question_answering_without_context(tiny):
    with pytest.raises(UserError, match="context"):
        run_task("question-answering", str(tiny["bert-qa"]), "Where is Paris?")


def test_fill_mask_without_mask(tiny):
    with pytest.raises(UserError, match=r"\[MASK\]"):
        run_task("fill-mask", str(tiny["bert-mlm"]), "paris is nice")


def test_unknown_parameter_suggests_the_right_one(tiny):
    with pytest.raises(UserError) as err:
        run_task("text-generation", str(tiny["gpt2"]), "Hi", {"max_new_token": 3})
    assert "max_new_token" in err.value.message and "max_new_tokens" in err.value.hint


def test_zero_shot_needs_labels(tiny):
    with pytest.raises(UserError, match="candidate"):
        run_task("zero-shot-classification", str(tiny["bert-nli"]), "I love Paris")


def test_wrong_model_for_the_task_is_a_user_error_not_a_crash(tiny):
    # A GPT-2 folder has no mask token: fill-mask cannot run on it.
    with pytest.raises(UserError):
        run_task("fill-mask", str(tiny["gpt2"]), "Paris is [MASK]")


# --- the command line twin -------------------------------------------------------------------

def test_cli_prints_the_json_result(tiny, capsys):
    code = main(["pipeline", "sentiment-analysis", "--model", str(tiny["bert-cls"]), "I", "love", "it"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result[0]) == {"label", "score"}


def test_cli_question_answering_and_params(tiny, capsys):
    code = main(["pipeline", "question-answering", "--model", str(tiny["bert-qa"]),
                 "--question", "Where is Paris?", "--context", "Paris is in France .",
                 "--param", "max_answer_len=3"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["answer"] == "Paris is in France ."[result["start"]:result["end"]]


def test_cli_error_is_one_line_and_exit_code_2(capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(["pipeline", "translation_en_to_fr", "--model", "twb-tests/no-such-model", "Hello"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "twb-tests/no-such-model" in err and "Traceback" not in err


def test_cli_lists_tasks_with_their_implementation(capsys):
    assert main(["pipeline", "--list-tasks"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "workbench" in lines["question-answering"] and "transformers" in lines["fill-mask"]
    assert "sentiment-analysis" in lines["text-classification"]


def test_local_model_folders_are_listed_with_their_architecture(tiny, tmp_path, monkeypatch):
    import shutil

    from core.hf.pipelines import list_local_models

    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny["bert-cls"], tmp_path / "models" / "my-bert")
    listed = {m.name: m for m in list_local_models([tiny["gpt2"].parent])}
    assert listed["my-bert"].source == "folder" and listed["my-bert"].architecture == "BertForSequenceClassification"
    assert listed["gpt2"].architecture == "GPT2LMHeadModel" and listed["gpt2"].model_type == "gpt2"


def test_translation_pair_from_the_task_name_is_kept_when_fields_are_empty(tiny):
    # The console sends empty language fields; translation_en_to_fr still means en -> fr.
    run = run_task("translation_en_to_fr", str(tiny["t5"]), "the house", {"src_lang": None, "tgt_lang": None,
                                                                          "max_new_tokens": 2})
    assert set(run[0]) == {"translation_text"}


def test_no_network_without_offline_mode_fails_fast_with_the_same_message(monkeypatch):
    from core.pretrained import sources as models

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(models, "hub_reachable", lambda: False)
    with pytest.raises(UserError) as err:
        run_task("summarization", "twb-tests/no-such-model", "a long text")
    assert "'twb-tests/no-such-model' is not available offline" in err.value.message
