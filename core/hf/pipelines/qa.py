"""Extractive question answering on AutoModelForQuestionAnswering, as transformers 4.49 did it.

transformers 5.3 removed the pipeline; this keeps its answers, spans and scores:
- the context is read in windows of ``max_seq_len`` tokens (default min(model limit, 384))
  overlapping by ``doc_stride`` (default min(max_seq_len // 2, 128));
- in each window, the start and end logits are turned into probabilities over the context's
  tokens *and* [CLS] (the "no answer" position of SQuAD2-style models), so scores are not
  inflated; ``handle_impossible_answer`` adds the empty answer with [CLS]'s score;
- the best spans (start <= end < start + max_answer_len) are mapped back to the context's
  characters, widened to whole words (``align_to_words``);
- tokenizers that pad on the left take the context first, as they were trained.
Windows run in batches of equal length (no padding, so the logits are those of one window alone).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import UserError
from core.hf.pipelines.loading import HeadModel, load_head_model
from core.hf.pipelines.models import ModelRef
from core.hf.pipelines.text_limits import model_limit

MAX_WINDOW = 384  # transformers 4's default max_seq_len, when the model takes more
WINDOW_BATCH = 8  # windows per forward pass: peak memory stays that of a few windows
_MASKED = -10000.0  # the logit transformers gave positions outside the context


def load_qa(ref: ModelRef, trust_remote_code: bool) -> HeadModel:
    return load_head_model(ref, trust_remote_code, "AutoModelForQuestionAnswering", "question-answering",
                           needs="an extractive question-answering model")


@dataclass(frozen=True)
class Options:
    top_k: int = 1
    max_answer_len: int = 15
    handle_impossible_answer: bool = False
    align_to_words: bool = True
    max_seq_len: int | None = None
    doc_stride: int | None = None
    max_question_len: int | None = None

    @classmethod
    def from_params(cls, params: dict) -> "Options":
        def number(name):
            value = params.get(name)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"question-answering: {name} must be a whole number of at least 1, got {value!r}",
                                f"e.g. --param {name}=3")
            return value

        return cls(number("top_k") or 1, number("max_answer_len") or 15,
                   bool(params.get("handle_impossible_answer", False)), bool(params.get("align_to_words", True)),
                   number("max_seq_len"), number("doc_stride"), number("max_question_len"))


@dataclass
class Windows:
    """The tokenized windows of one (question, context) pair."""

    context: str
    encoded: Any  # BatchEncoding: one row per window, unpadded
    allowed: list  # per window, a bool array: the positions an answer may start or end at
    context_index: int  # which sequence of the pair is the context (1, or 0 when padding left)

    @property
    def count(self) -> int:
        return len(self.encoded["input_ids"])


def tokenize(tokenizer, question: str, context: str, options: Options, limit: int | None) -> Windows:
    import numpy as np

    if not context.strip():
        raise UserError("question-answering needs a context: the text that holds the answer",
                        "give it with --context TEXT (or the console's Context field)")
    if not getattr(tokenizer, "is_fast", False):
        raise UserError("question-answering needs a fast tokenizer (tokenizer.json) to map answers to characters",
                        "choose a model folder that has tokenizer.json")
    max_seq_len = options.max_seq_len or min(limit or MAX_WINDOW, MAX_WINDOW)
    stride = options.doc_stride if options.doc_stride is not None else min(max_seq_len // 2, 128)
    question_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    if options.max_question_len is not None and question_tokens > options.max_question_len:
        raise UserError(f"the question is {question_tokens} tokens, more than max_question_len={options.max_question_len}",
                        "ask a shorter question, or raise max_question_len")
    room = max_seq_len - question_tokens - tokenizer.num_special_tokens_to_add(pair=True)
    if room <= stride:
        raise UserError(f"the question ({question_tokens} tokens) leaves no room for the context in "
                        f"{max_seq_len}-token windows overlapping by {stride}",
                        "ask a shorter question, or lower doc_stride")
    question_first = tokenizer.padding_side == "right"
    encoded = tokenizer(
        question if question_first else context, context if question_first else question,
        truncation="only_second" if question_first else "only_first", max_length=max_seq_len, stride=stride,
        return_token_type_ids=True, return_overflowing_tokens=True, return_offsets_mapping=True,
    )
    context_index = 1 if question_first else 0
    allowed = []
    for w in range(len(encoded["input_ids"])):
        keep = np.array([s == context_index for s in encoded.sequence_ids(w)])
        if tokenizer.cls_token_id is not None:  # [CLS] stays: it scores "no answer"
            keep |= np.array(encoded["input_ids"][w]) == tokenizer.cls_token_id
        allowed.append(keep)
    return Windows(context, encoded, allowed, context_index)


def model_inputs(tokenizer, model) -> list[str]:
    """The tokenizer's inputs, plus token_type_ids when the model takes them (BERT segment ids)
    even if the tokenizer does not list them."""
    import inspect

    names = list(tokenizer.model_input_names)
    if "token_type_ids" not in names and "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")
    return names


def forward(model, windows: Windows, names: list[str], batch_size: int = WINDOW_BATCH) -> list[tuple]:
    """(start_logits, end_logits) of every window, as float32 numpy arrays of shape (T,)."""
    import torch

    encoded = windows.encoded
    out: list[tuple] = []
    start = 0
    while start < windows.count:
        length = len(encoded["input_ids"][start])
        stop = start
        while stop < windows.count and stop - start < batch_size and len(encoded["input_ids"][stop]) == length:
            stop += 1
        batch = {k: torch.tensor(encoded[k][start:stop], device=model.device) for k in names if k in encoded}
        with torch.inference_mode():
            output = model(**batch)
        starts = output.start_logits.float().cpu().numpy()  # (B, T)
        ends = output.end_logits.float().cpu().numpy()  # (B, T)
        out.extend(zip(starts, ends))
        start = stop
    return out


def _probabilities(logits, allowed):
    import numpy as np

    masked = np.where(allowed, logits, np.float32(_MASKED)).astype(np.float32)
    exp = np.exp(masked - masked.max())
    return exp / exp.sum()


def best_answers(windows: Windows, logits: list[tuple], options: Options) -> dict | list[dict]:
    """transformers 4's postprocess: the top_k spans over every window (and the empty answer)."""
    import numpy as np

    min_null = 1_000_000.0
    answers = []
    for w, (start_logits, end_logits) in enumerate(logits):
        allowed = windows.allowed[w]
        p_start, p_end = _probabilities(start_logits, allowed), _probabilities(end_logits, allowed)
        min_null = min(min_null, float(p_start[0] * p_end[0]))
        p_start[0] = p_end[0] = 0.0  # position 0 ([CLS]) is "no answer", never a span
        # scores[i, j] = P(start=i) * P(end=j), kept for i <= j < i + max_answer_len.
        scores = np.tril(np.triu(np.outer(p_start, p_end)), options.max_answer_len - 1)
        flat = scores.flatten()
        k = options.top_k
        order = [int(np.argmax(flat))] if k == 1 else np.argsort(-flat, kind="stable")[:k]
        # transformers' span filter also lets position 0 through.
        ok = set(np.nonzero(allowed)[0].tolist()) | {0}
        encoding = windows.encoded.encodings[w]
        for index in order:
            i, j = divmod(int(index), scores.shape[1])
            if i in ok and j in ok:
                begin, end = _span(encoding, i, j, windows.context_index, options.align_to_words)
                answers.append({"score": float(scores[i, j]), "start": begin, "end": end,
                                "answer": windows.context[begin:end]})
    if options.handle_impossible_answer:
        answers.append({"score": min_null, "start": 0, "end": 0, "answer": ""})
    if not answers:
        raise UserError("the context is empty after tokenization", "give a context with words in it")
    answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:options.top_k]
    return answers[0] if len(answers) == 1 else answers


def _span(encoding, i: int, j: int, sequence_index: int, align_to_words: bool) -> tuple[int, int]:
    """Characters of tokens i..j; with align_to_words, of the whole words holding them."""
    if align_to_words:
        first, last = encoding.token_to_word(i), encoding.token_to_word(j)
        if first is not None and last is not None:
            begin = encoding.word_to_chars(first, sequence_index)
            end = encoding.word_to_chars(last, sequence_index)
            if begin is not None and end is not None:
                return begin[0], end[1]
    return encoding.offsets[i][0], encoding.offsets[j][1]


def answer(bundle: HeadModel, question: str, context: str, **params) -> dict | list[dict]:
    """The answer(s) to question in context (params: Options' fields)."""
    options = Options.from_params(params)
    windows = tokenize(bundle.tokenizer, question, context or "", options, model_limit(bundle.tokenizer, bundle.config))
    return best_answers(windows, forward(bundle.model, windows, model_inputs(bundle.tokenizer, bundle.model)), options)
