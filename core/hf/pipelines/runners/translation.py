"""translation (and translation_xx_to_yy): translate a text with a sequence-to-sequence model."""
from __future__ import annotations

from core.hf.pipelines.runner import register
from core.hf.pipelines.seq2seq import Seq2SeqRunner, translation_key
from core.hf.pipelines.spec import GEN_PARAMS, TaskField, TaskSpec


@register
class Translation(Seq2SeqRunner):
    order = 80
    output_key = "translation_text"
    spec = TaskSpec(
        "translation", "Translate a text (translation_en_to_fr also names the languages).", "text", "Text",
        "translation", False, "google-t5/t5-base",
        # Empty by default: translation_en_to_fr names them, one-pair models need none.
        (TaskField("src_lang", "From", "text", None, "Source language code, e.g. en (empty: the task name's or none)."),
         TaskField("tgt_lang", "To", "text", None, "Target language code, e.g. fr (empty: the task name's or none)."),
         TaskField("max_length", "Max tokens", "int", None, "Longest output, in tokens.")),
        GEN_PARAMS + ("max_new_tokens",),
    )

    def task_key(self, params):
        return translation_key(params, self.bundle.config)
