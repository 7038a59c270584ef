"""text2text-generation: text in, text out (T5-style prompts, code models)."""
from __future__ import annotations

from core.hf.pipelines.runner import register
from core.hf.pipelines.seq2seq import Seq2SeqRunner
from core.hf.pipelines.spec import GEN_PARAMS, TaskField, TaskSpec


@register
class Text2TextGeneration(Seq2SeqRunner):
    order = 100
    output_key = "generated_text"
    spec = TaskSpec(
        "text2text-generation", "Text in, text out (T5-style prompts, code models).", "text", "Text",
        "text2text-generation", False, "google-t5/t5-base",
        (TaskField("max_new_tokens", "New tokens", "int", None, "How many tokens to generate."),),
        GEN_PARAMS + ("max_length",),
    )
