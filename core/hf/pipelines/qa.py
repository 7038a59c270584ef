"""Extractive question answering on AutoModelForQuestionAnswering.

transformers 5.3 removed the pipeline; this does what it did: split a long context into
overlapping windows, turn each window's start/end logits into probabilities over the context's
tokens, take the best span (start <= end, at most max_answer_len tokens), and map it back to
the context's characters: {'score', 'start', 'end', 'answer'} with answer == context[start:end].
"""
from __future__ import annotations


from core.errors import UserError
from core.hf.pipelines.loading import HeadModel, load_head_model
from core.hf.pipelines.models import ModelRef
from core.hf.pipelines.text_limits import model_limit

# The 4.x pipeline's defaults: windows of 384 tokens overlapping by 128.
MAX_WINDOW = 384
STRIDE = 128


def load_qa(ref: ModelRef, trust_remote_code: bool) -> HeadModel:
    return load_head_model(ref, trust_remote_code, "AutoModelForQuestionAnswering", "question-answering")


def answer(bundle: HeadModel, question: str, context: str, max_answer_len: int = 15,
           notices: list[str] | None = None) -> dict:
    import numpy as np
    import torch

    tokenizer, model = bundle.tokenizer, bundle.model
    question, context = question.strip(), context or ""
    if not context.strip():
        raise UserError("question-answering needs a context: the text that holds the answer",
                        "give it with --context TEXT (or the console's Context field)")
    if not getattr(tokenizer, "is_fast", False):
        raise UserError("question-answering needs a fast tokenizer (tokenizer.json) to map answers to characters",
                        "choose a model folder that has tokenizer.json")
    limit = min(model_limit(tokenizer, bundle.config) or MAX_WINDOW, MAX_WINDOW)
    question_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    if question_tokens + 8 >= limit:
        raise UserError(f"the question is too long ({question_tokens} tokens) for a {limit}-token window",
                        "ask a shorter question")
    encoded = tokenizer(
        question, context, truncation="only_second", max_length=limit, stride=min(STRIDE, limit // 4),
        return_overflowing_tokens=True, return_offsets_mapping=True, padding=True, return_tensors="pt",
    )
    windows = encoded["input_ids"].shape[0]
    if windows > 1 and notices is not None:
        notices.append(f"long context read in {windows} overlapping windows of {limit} tokens")
    inputs = {k: encoded[k].to(model.device) for k in tokenizer.model_input_names if k in encoded}
    with torch.inference_mode():
        output = model(**inputs)
    starts = output.start_logits.float().cpu().numpy()  # (W, T)
    ends = output.end_logits.float().cpu().numpy()  # (W, T)
    offsets = encoded["offset_mapping"].numpy()  # (W, T, 2)

    best = None  # (score, start_char, end_char)
    for w in range(windows):
        in_context = np.array([s == 1 for s in encoded.sequence_ids(w)])  # (T,)
        if not in_context.any():
            continue
        p_start = _softmax_over(starts[w], in_context)
        p_end = _softmax_over(ends[w], in_context)
        # scores[i, j] = P(start=i) * P(end=j), kept for i <= j < i + max_answer_len.
        scores = np.triu(np.tril(np.outer(p_start, p_end), max_answer_len - 1))
        i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
        score = float(scores[i, j])
        if best is None or score > best[0]:
            best = (score, int(offsets[w, i, 0]), int(offsets[w, j, 1]))
    if best is None:
        raise UserError("the context is empty after tokenization", "give a context with words in it")
    score, start, end = best
    return {"score": score, "start": start, "end": end, "answer": context[start:end]}


def _softmax_over(logits, keep):
    """Softmax of logits over the kept positions; the others get probability 0."""
    import numpy as np

    masked = np.where(keep, logits, -np.inf)
    masked = masked - masked.max()
    exp = np.exp(masked)
    return exp / exp.sum()
