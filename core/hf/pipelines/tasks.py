"""The pipeline tasks the console runs: names, aliases, extra inputs, defaults.

Pure data (no torch, no transformers) so the console can list tasks and render their fields
without loading anything. Each task says whether it runs on a transformers pipeline
(``native``) or on the workbench's own implementation, needed because transformers 5 removed
translation, summarization, text2text-generation (5.0) and question-answering (5.3).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from core.errors import UserError


@dataclass(frozen=True)
class TaskField:
    """One extra input a task takes besides its main prompt; the console renders it generically."""

    name: str  # the parameter name passed to run_task's params
    label: str
    kind: str  # "text" | "longtext" | "int" | "float" | "bool" | "list" | "choice"
    default: Any = None
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    name: str  # canonical name
    summary: str
    input_kind: str  # "text" or "image" (an image file path)
    input_label: str  # what the main prompt holds, e.g. "Question" for question-answering
    # The transformers pipeline task, when transformers implements it (or did, before 5.x).
    hf_task: str
    # False: the workbench implements it (transformers 5 removed the pipeline).
    native: bool
    # The model transformers picks when none is given (downloaded when online).
    default_model: str
    fields: tuple[TaskField, ...] = ()
    # Further parameters accepted but not shown as fields (passed to the pipeline or generate()).
    extra_params: tuple[str, ...] = ()

    def param_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields) + self.extra_params


_GEN_PARAMS = ("num_beams", "do_sample", "temperature", "top_k", "top_p", "repetition_penalty",
               "no_repeat_ngram_size", "length_penalty", "early_stopping", "min_length", "min_new_tokens")
_TOP_K = TaskField("top_k", "Top k", "int", 5, "How many best answers to show.")


def _specs() -> list[TaskSpec]:
    return [
        TaskSpec(
            "text-classification", "Label a text (sentiment with the default model).", "text", "Text",
            "text-classification", True, "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            (TaskField("top_k", "Top k", "int", 1, "How many labels to show, best first."),),
            ("function_to_apply",),
        ),
        TaskSpec(
            "text-generation", "Continue a prompt.", "text", "Prompt",
            "text-generation", True, "HuggingFaceTB/SmolLM3-3B",
            (TaskField("max_new_tokens", "New tokens", "int", 30, "How many tokens to generate."),
             TaskField("do_sample", "Sample", "bool", False, "Sample instead of always taking the likeliest token."),),
            _GEN_PARAMS + ("num_return_sequences", "return_full_text"),
        ),
        TaskSpec(
            "fill-mask", "Guess the masked word (write the model's mask token, e.g. [MASK] or <mask>).",
            "text", "Text with a mask", "fill-mask", True, "distilbert/distilroberta-base", (_TOP_K,),
        ),
        TaskSpec(
            "feature-extraction", "Hidden states of the last layer, one vector per token.", "text", "Text",
            "feature-extraction", True, "distilbert/distilbert-base-cased",
            (TaskField("return_values", "Values", "bool", False,
                       "Also return every number of the hidden states, not only their shape."),),
        ),
        TaskSpec(
            "zero-shot-classification", "Score a text against labels you choose.", "text", "Text",
            "zero-shot-classification", True, "facebook/bart-large-mnli",
            (TaskField("candidate_labels", "Labels", "list", None, "Comma-separated labels to score.", True),
             TaskField("multi_label", "Multi-label", "bool", False, "Score each label independently.")),
            ("hypothesis_template",),
        ),
        TaskSpec(
            "token-classification", "Tag the words of a text (named entities with the default model).",
            "text", "Text", "token-classification", True, "dbmdz/bert-large-cased-finetuned-conll03-english",
            (TaskField("aggregation_strategy", "Grouping", "choice", "none",
                       "How word pieces are grouped into entities.",
                       choices=("none", "simple", "first", "average", "max")),),
            ("ignore_labels",),
        ),
        TaskSpec(
            "image-classification", "Label an image file.", "image", "Image file",
            "image-classification", True, "google/vit-base-patch16-224", (_TOP_K,),
        ),
        TaskSpec(
            "translation", "Translate a text (translation_en_to_fr also names the languages).", "text", "Text",
            "translation", False, "google-t5/t5-base",
            # Empty by default: translation_en_to_fr names them, one-pair models need none.
            (TaskField("src_lang", "From", "text", None, "Source language code, e.g. en (empty: the task name's or none)."),
             TaskField("tgt_lang", "To", "text", None, "Target language code, e.g. fr (empty: the task name's or none)."),
             TaskField("max_length", "Max tokens", "int", None, "Longest output, in tokens.")),
            _GEN_PARAMS + ("max_new_tokens",),
        ),
        TaskSpec(
            "summarization", "Summarize a text.", "text", "Text",
            "summarization", False, "sshleifer/distilbart-cnn-12-6",
            (TaskField("max_length", "Max tokens", "int", None, "Longest summary, in tokens."),
             TaskField("min_length", "Min tokens", "int", None, "Shortest summary, in tokens.")),
            tuple(p for p in _GEN_PARAMS if p != "min_length") + ("max_new_tokens",),
        ),
        TaskSpec(
            "text2text-generation", "Text in, text out (T5-style prompts, code models).", "text", "Text",
            "text2text-generation", False, "google-t5/t5-base",
            (TaskField("max_new_tokens", "New tokens", "int", None, "How many tokens to generate."),),
            _GEN_PARAMS + ("max_length",),
        ),
        TaskSpec(
            "question-answering", "Find the answer to a question in a context.", "text", "Question",
            "question-answering", False, "distilbert/distilbert-base-cased-distilled-squad",
            (TaskField("context", "Context", "longtext", None, "The text that holds the answer.", True),
             TaskField("max_answer_len", "Max answer tokens", "int", 15, "Longest answer, in tokens.")),
        ),
    ]


TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in _specs()}
ALIASES: dict[str, str] = {"sentiment-analysis": "text-classification", "ner": "token-classification"}
_TRANSLATION_RE = re.compile(r"^translation_([a-zA-Z-]+)_to_([a-zA-Z-]+)$")


def task_names() -> list[str]:
    """Every name the console accepts: tasks, then aliases, then an example translation_xx_to_yy."""
    return [*TASKS, *ALIASES, "translation_en_to_fr"]


@dataclass(frozen=True)
class ResolvedTask:
    spec: TaskSpec
    # Parameters implied by the name itself (translation_en_to_fr -> src_lang/tgt_lang).
    implied: dict = field(default_factory=dict)


def resolve_task(name: str) -> ResolvedTask:
    """Map a task name or alias to its spec; a wrong name suggests the closest ones."""
    key = (name or "").strip().lower().replace(" ", "-")
    if not key:
        raise UserError("no task given", f"choose one of: {', '.join(task_names())}")
    key = ALIASES.get(key, key)
    if key in TASKS:
        return ResolvedTask(TASKS[key])
    match = _TRANSLATION_RE.match(key)
    if match:
        return ResolvedTask(TASKS["translation"], {"src_lang": match.group(1), "tgt_lang": match.group(2)})
    close = difflib.get_close_matches(key, task_names(), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else f"choose one of: {', '.join(task_names())}"
    raise UserError(f"unknown task {name!r}", hint)


def task_fields(task: str) -> list[TaskField]:
    """The extra inputs of a task, for the console to render (the main prompt is not included)."""
    return list(resolve_task(task).spec.fields)


def check_params(spec: TaskSpec, params: dict) -> None:
    allowed = spec.param_names()
    for key in params:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]}?" if close else (
                f"{spec.name} takes: {', '.join(allowed)}" if allowed else f"{spec.name} takes no parameters")
            raise UserError(f"unknown parameter {key!r} for {spec.name}", hint)
    for f in spec.fields:
        if f.required and params.get(f.name) in (None, "", [], ()):
            raise UserError(f"{spec.name} needs {f.label.lower()} ({f.name})", f.help)
