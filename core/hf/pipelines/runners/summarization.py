"""summarization: summarize a text with a sequence-to-sequence model."""
from __future__ import annotations

from core.hf.pipelines.runner import register
from core.hf.pipelines.seq2seq import Seq2SeqRunner
from core.hf.pipelines.spec import GEN_PARAMS, TaskField, TaskSpec


@register
class Summarization(Seq2SeqRunner):
    order = 90
    output_key = "summary_text"
    spec = TaskSpec(
        "summarization", "Summarize a text.", "text", "Text",
        "summarization", False, "sshleifer/distilbart-cnn-12-6",
        (TaskField("max_length", "Max tokens", "int", None, "Longest summary, in tokens."),
         TaskField("min_length", "Min tokens", "int", None, "Shortest summary, in tokens.")),
        tuple(p for p in GEN_PARAMS if p != "min_length") + ("max_new_tokens",),
    )
