"""Every console task end to end on tiny offline models, in the shapes transformers 4 used."""
import json

import pytest

from core.hf.pipelines import run_pipeline, run_task


def assert_plain_json(result):
    # Plain Python only: json.dumps refuses numpy scalars and tensors.
    assert json.loads(json.dumps(result)) == result


def assert_label_scores(result, labels):
    assert isinstance(result, list) and result
    for item in result:
        assert set(item) == {"label", "score"}
        assert item["label"] in labels
        assert 0.0 <= item["score"] <= 1.0


@pytest.mark.parametrize("task", ["sentiment-analysis", "text-classification"])
def test_text_classification_returns_label_and_score(tiny, task):
    result = run_task(task, str(tiny["bert-cls"]), "I love this movie")
    assert_label_scores(result, {"NEGATIVE", "POSITIVE"})
    assert len(result) == 1
    assert_plain_json(result)


def test_text_classification_top_k_returns_every_label_best_first(tiny):
    result = run_task("text-classification", str(tiny["bert-cls"]), "I love this movie", {"top_k": 2})
    assert_label_scores(result, {"NEGATIVE", "POSITIVE"})
    assert [r["score"] for r in result] == sorted((r["score"] for r in result), reverse=True)
    assert sum(r["score"] for r in result) == pytest.approx(1.0, abs=1e-5)


def test_text_generation_continues_the_prompt(tiny):
    result = run_task("text-generation", str(tiny["gpt2"]), "Hello world", {"max_new_tokens": 4})
    assert len(result) == 1 and set(result[0]) == {"generated_text"}
    assert result[0]["generated_text"].startswith("Hello world")
    assert_plain_json(result)


@pytest.mark.parametrize("mask", ["[MASK]", "<mask>"])
def test_fill_mask_accepts_either_mask_spelling(tiny, mask):
    result = run_task("fill-mask", str(tiny["bert-mlm"]), f"paris is a {mask} city .", {"top_k": 3})
    assert len(result) == 3
    for item in result:
        assert set(item) == {"score", "token", "token_str", "sequence"}
        assert isinstance(item["token"], int) and isinstance(item["score"], float)
    assert_plain_json(result)


def test_feature_extraction_reports_hidden_state_shape(tiny):
    result = run_task("feature-extraction", str(tiny["bert-cls"]), "hello world")
    # [CLS] hello world [SEP], hidden size 32: the tutorial's torch.Size([1, T, H]).
    assert result["shape"] == [1, 4, 32]
    assert result["tokens"] == ["[CLS]", "hello", "world", "[SEP]"]
    full = run_task("feature-extraction", str(tiny["bert-cls"]), "hello world", {"return_values": True})
    assert len(full["features"]) == 1 and len(full["features"][0]) == 4 and len(full["features"][0][0]) == 32
    assert_plain_json(full)


def test_zero_shot_classification_scores_every_candidate(tiny):
    result = run_task("zero-shot-classification", str(tiny["bert-nli"]), "I love paris",
                      {"candidate_labels": "travel, cooking, sport"})
    assert result["sequence"] == "I love paris"
    assert sorted(result["labels"]) == ["cooking", "sport", "travel"]
    assert sum(result["scores"]) == pytest.approx(1.0, abs=1e-5)
    assert_plain_json(result)


def test_ner_tags_words_with_character_offsets(tiny):
    text = "Clara lives in Paris"
    result = run_task("ner", str(tiny["bert-ner"]), text, {"aggregation_strategy": "simple"})
    assert isinstance(result, list)
    for item in result:
        assert {"entity_group", "score", "word", "start", "end"} <= set(item)
        assert text[item["start"]:item["end"]].lower().replace(" ", "") == item["word"].replace("##", "").replace(" ", "")
    assert_plain_json(result)


def test_image_classification_from_a_file(tiny):
    result = run_task("image-classification", str(tiny["vit"]), str(tiny["image"]), {"top_k": 2})
    assert len(result) == 2
    assert_label_scores(result, {"cat", "dog", "tabby"})


@pytest.mark.parametrize("task,key", [
    ("translation_en_to_fr", "translation_text"),
    ("summarization", "summary_text"),
    ("text2text-generation", "generated_text"),
])
def test_seq2seq_tasks_removed_from_transformers_5_work(tiny, task, key):
    run = run_pipeline(task, str(tiny["t5"]), "the house is blue .", {"max_new_tokens": 5})
    assert run.implementation in ("workbench", "transformers")
    assert len(run.result) == 1 and set(run.result[0]) == {key}
    assert isinstance(run.result[0][key], str)
    assert_plain_json(run.result)


def test_translation_uses_the_models_prefix_for_the_language_pair(tiny, monkeypatch):
    from core.hf.pipelines.models import resolve_model
    from core.hf.pipelines.seq2seq import load_seq2seq

    bundle = load_seq2seq(resolve_model(str(tiny["t5"]), ""), False)  # the cached one run_task uses
    seen = []

    class Recorder:
        def __init__(self, inner):
            self.inner = inner

        def __call__(self, text, *args, **kwargs):
            seen.append(text)
            return self.inner(text, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(bundle, "tokenizer", Recorder(bundle.tokenizer))
    run_task("translation_en_to_fr", str(tiny["t5"]), "the house", {"max_new_tokens": 2})
    assert "translate English to French: the house" in seen
    seen.clear()
    run_task("translation", str(tiny["t5"]), "the house", {"src_lang": "en", "tgt_lang": "fr", "max_new_tokens": 2})
    assert "translate English to French: the house" in seen


def test_marian_translation_like_the_tutorials_opus_mt_en_fr(tiny):
    if "marian" not in tiny:
        pytest.skip("sentencepiece is not installed")
    result = run_task("translation_en_to_fr", str(tiny["marian"]), "the house is blue .", {"max_new_tokens": 4})
    assert len(result) == 1 and isinstance(result[0]["translation_text"], str)
    # A one-pair model needs no languages at all.
    assert set(run_task("translation", str(tiny["marian"]), "hello", {"max_new_tokens": 2})[0]) == {"translation_text"}


def test_translation_without_languages_on_a_multi_pair_model_asks_which(tiny):
    from core.errors import UserError

    with pytest.raises(UserError, match="translation_en_to_fr"):
        run_task("translation", str(tiny["t5"]), "the house")


def test_question_answering_returns_a_span_of_the_context(tiny):
    context = "The capital of France is Paris . Paris is a beautiful city in France ."
    result = run_task("question-answering", str(tiny["bert-qa"]), "What is the capital of France?",
                      {"context": context})
    assert list(result) == ["score", "start", "end", "answer"]
    assert 0 <= result["start"] < result["end"] <= len(context)
    assert result["answer"] == context[result["start"]:result["end"]]
    assert 0.0 < result["score"] <= 1.0
    assert_plain_json(result)


def test_question_answering_reads_a_long_context_in_windows(tiny):
    context = " ".join(["Paris is a beautiful city in France ."] * 40)  # far over the 64-token model
    run = run_pipeline("question-answering", str(tiny["bert-qa"]),
                       {"question": "Where is Paris?", "context": context})
    assert run.result["answer"] == context[run.result["start"]:run.result["end"]]
    assert run.result["end"] > 0
    assert any("windows" in n for n in run.notices)


def test_question_answering_spans_stay_within_max_answer_len(tiny):
    from core.hf.pipelines.qa import answer, load_qa
    from core.hf.pipelines.models import resolve_model

    bundle = load_qa(resolve_model(str(tiny["bert-qa"]), ""), False)
    context = "Hello world , my name is Clara and I live in Berkeley ."
    result = answer(bundle, "Who?", context, max_answer_len=1, align_to_words=False)
    assert len(bundle.tokenizer(result["answer"], add_special_tokens=False)["input_ids"]) == 1


def test_long_input_is_truncated_with_a_notice(tiny):
    run = run_pipeline("text-classification", str(tiny["bert-cls"]), "great movie " * 100)
    assert run.notices and "truncated" in run.notices[0] and "64" in run.notices[0]
    assert_label_scores(run.result, {"NEGATIVE", "POSITIVE"})


def test_long_generation_prompt_keeps_its_end(tiny):
    run = run_pipeline("text-generation", str(tiny["gpt2"]), "Hello world " * 60 + "THE END", {"max_new_tokens": 4})
    assert any("shortened" in n for n in run.notices)
    assert "THE END" in run.result[0]["generated_text"]


def test_a_list_of_inputs_gives_one_result_each(tiny):
    result = run_task("sentiment-analysis", str(tiny["bert-cls"]), ["good", "bad"])
    assert len(result) == 2 and all(len(r) == 1 for r in result)


def test_loaded_models_are_cached_between_runs(tiny):
    from core.hf.pipelines import loading

    loading.clear_cache()
    first = run_task("sentiment-analysis", str(tiny["bert-cls"]), "warm")
    loaded = list(loading._cache.values())
    again = run_task("sentiment-analysis", str(tiny["bert-cls"]), "warm")
    # The second run found what the first loaded: nothing new was built or replaced.
    assert loaded and len(loading._cache) == len(loaded)
    assert all(a is b for a, b in zip(loading._cache.values(), loaded))
    assert again == first


def test_cancel_event_set_before_running_discards_the_result(tiny):
    import threading

    from core.hf.pipelines import PipelineCancelled

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(PipelineCancelled):
        run_task("text-generation", str(tiny["gpt2"]), "Hello", {"max_new_tokens": 3}, cancel=cancel)
