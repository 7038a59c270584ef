"""The rules by which our QA and seq2seq tasks give transformers 4's answers (the reference:
benchmarks/pipelines_vs_transformers4.py runs both side by side). Each rule is pinned here on
tiny offline models with logits or token ids chosen so the rule decides the answer."""
import numpy as np
import pytest

from core.hf.pipelines import qa, run_pipeline, run_task
from core.hf.pipelines.models import resolve_model

CONTEXT = "The capital of France is Paris . Hyperboloids live in Berkeley ."


@pytest.fixture(scope="session")
def bundle(tiny):
    return qa.load_qa(resolve_model(str(tiny["bert-qa"]), ""), False)


def windows_for(bundle, question, context, **params):
    options = qa.Options.from_params(params)
    return qa.tokenize(bundle.tokenizer, question, context, options, 64), options


def peaked(windows, start_at, end_at, cls_logit=0.0, high=8.0):
    """One window's logits: flat, with start and end peaks at the given positions."""
    length = len(windows.encoded["input_ids"][0])
    start, end = np.zeros(length, np.float32), np.zeros(length, np.float32)
    start[0] = end[0] = cls_logit
    start[start_at] += high
    end[end_at] += high
    return [(start, end)]


def piece_inside(windows, word):
    """The position of a token that is part of word but does not start it (a ## piece)."""
    encoding = windows.encoded.encodings[0]
    begin = windows.context.index(word)
    for i, (seq, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets)):
        if seq == 1 and begin < a < begin + len(word):
            return i
    raise AssertionError(f"{word} is one token")


def test_answers_are_widened_to_whole_words_unless_asked_not_to(bundle):
    windows, options = windows_for(bundle, "Who lives there?", CONTEXT)
    inside = piece_inside(windows, "Hyperboloids")
    logits = peaked(windows, inside, inside)
    assert qa.best_answers(windows, logits, options)["answer"] == "Hyperboloids"
    raw = qa.best_answers(windows, logits, qa.Options(align_to_words=False))["answer"]
    assert raw != "Hyperboloids" and raw in "Hyperboloids"


def test_cls_takes_part_in_the_softmax_so_scores_are_not_inflated(bundle):
    windows, options = windows_for(bundle, "Who lives there?", CONTEXT)
    at = windows.context.index("Paris")
    paris = next(i for i, (a, _) in enumerate(windows.encoded.encodings[0].offsets)
                 if a == at and windows.encoded.sequence_ids(0)[i] == 1)
    logits = peaked(windows, paris, paris, cls_logit=8.0)  # [CLS] as likely as the answer
    result = qa.best_answers(windows, logits, options)
    assert result["answer"] == "Paris"
    # Half the start mass and half the end mass sit on [CLS]: about 1/4, not about 1.
    assert 0.15 < result["score"] < 0.3
    empty = qa.best_answers(windows, peaked(windows, paris, paris, cls_logit=12.0),
                            qa.Options(handle_impossible_answer=True))
    assert empty["answer"] == "" and empty["start"] == empty["end"] == 0 and empty["score"] > 0.9


def test_top_k_gives_that_many_answers_best_first(tiny):
    result = run_task("question-answering", str(tiny["bert-qa"]), "Who?", {"context": CONTEXT, "top_k": 3})
    assert len(result) == 3
    assert [r["score"] for r in result] == sorted((r["score"] for r in result), reverse=True)
    assert all(r["answer"] == CONTEXT[r["start"]:r["end"]] for r in result)


def test_windows_overlap_by_half_the_window_at_most_128_tokens(bundle):
    context = " ".join(["Paris is a beautiful city in France ."] * 30)
    windows, _ = windows_for(bundle, "Where?", context)
    first, second = (windows.encoded.encodings[w] for w in (0, 1))
    in_first = [o for s, o in zip(first.sequence_ids, first.offsets) if s == 1]
    in_second = [o for s, o in zip(second.sequence_ids, second.offsets) if s == 1]
    assert len(first.ids) == 64
    assert len(set(in_first) & set(in_second)) == 64 // 2  # doc_stride = min(max_seq_len // 2, 128)
    windows, _ = windows_for(bundle, "Where?", context, doc_stride=5, max_seq_len=30)
    assert len(windows.encoded["input_ids"][0]) == 30


def test_left_padding_tokenizers_read_context_then_question(tiny):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny["bert-qa"]))
    tokenizer.padding_side = "left"
    windows = qa.tokenize(tokenizer, "Hello world ?", CONTEXT, qa.Options(), 64)
    tokens = tokenizer.convert_ids_to_tokens(windows.encoded["input_ids"][0])
    assert tokens[1] == "The" and windows.context_index == 0
    assert tokens.index("Hello") > tokens.index("Berkeley")
    allowed = [t for t, ok in zip(tokens, windows.allowed[0]) if ok]
    assert "Hello" not in allowed and "Berkeley" in allowed


def test_windows_run_in_batches_not_all_at_once(bundle, monkeypatch):
    context = " ".join(["Paris is a beautiful city in France ."] * 60)
    windows, options = windows_for(bundle, "Where?", context)
    sizes = []
    model = bundle.model
    original = type(model).forward

    def counting(self, *args, **kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(model), "forward", counting)
    logits = qa.forward(model, windows, qa.model_inputs(bundle.tokenizer, model), batch_size=4)
    assert len(logits) == windows.count > 8
    assert max(sizes) == 4 and sum(sizes) == windows.count


def test_segment_ids_reach_bert_even_when_the_tokenizer_does_not_list_them(bundle, monkeypatch):
    monkeypatch.setattr(bundle.tokenizer, "model_input_names", ["input_ids", "attention_mask"])
    assert "token_type_ids" in qa.model_inputs(bundle.tokenizer, bundle.model)


# --- sequence to sequence ----------------------------------------------------------------------

def test_a_list_of_inputs_gives_a_flat_list(tiny):
    result = run_task("summarization", str(tiny["t5"]), ["the house is blue .", "the lazy dog"], {"max_new_tokens": 3})
    assert len(result) == 2 and all(isinstance(r, dict) and set(r) == {"summary_text"} for r in result)


def test_num_return_sequences_gives_that_many_texts(tiny):
    result = run_task("text2text-generation", str(tiny["t5"]), "hello world",
                      {"max_new_tokens": 3, "num_beams": 3, "num_return_sequences": 3})
    assert len(result) == 3 and all(set(r) == {"generated_text"} for r in result)
    both = run_task("text2text-generation", str(tiny["t5"]), ["hello", "world"],
                    {"max_new_tokens": 3, "num_beams": 2, "num_return_sequences": 2})
    assert [len(r) for r in both] == [2, 2]  # nested only when an input has several texts


def test_decoding_keeps_the_space_before_question_marks(tiny):
    from core.hf.pipelines.runners import RUNNERS

    runner = RUNNERS["translation"](resolve_model(str(tiny["t5"]), ""), False).load()
    ids = runner.bundle.tokenizer("est-ce la ? oui !", add_special_tokens=False)["input_ids"]
    assert runner.postprocess([ids], {}) == [{"translation_text": "est-ce la ? oui !"}]


def test_settings_max_length_of_20_means_20_new_tokens(tiny, monkeypatch):
    from core.hf.pipelines.runners import RUNNERS

    runner = RUNNERS["summarization"](resolve_model(str(tiny["t5"]), ""), False).load()
    _, gen = runner.preprocess("the house", {}).inputs  # tiny t5: summarization max_length 20
    assert gen.get("max_new_tokens") == 20 and "max_length" not in gen
    _, gen = runner.preprocess("the house", {"max_length": 20}).inputs
    assert gen["max_length"] == 20  # the user's own max_length counts every token
    run = run_pipeline("summarization", str(tiny["t5"]), "the house")
    assert run.result and run.notices == ()
