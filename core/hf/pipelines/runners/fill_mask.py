"""fill-mask: guess the masked word; [MASK] and <mask> both stand for the model's own mask."""
from __future__ import annotations

from core.errors import UserError
from core.hf.pipelines.native import NativeRunner
from core.hf.pipelines.runner import register
from core.hf.pipelines.spec import TOP_K, TaskSpec

# Mask tokens users type out of habit: replaced by the model's own (BERT [MASK], RoBERTa <mask>).
_MASK_SPELLINGS = ("[MASK]", "<mask>")


@register
class FillMask(NativeRunner):
    order = 30
    needs = "a masked language model"
    spec = TaskSpec(
        "fill-mask", "Guess the masked word (write the model's mask token, e.g. [MASK] or <mask>).",
        "text", "Text with a mask", "fill-mask", True, "distilbert/distilroberta-base", (TOP_K,),
    )

    def preprocess(self, text, params):
        mask = self.pipe.tokenizer.mask_token
        if mask is None:
            raise UserError("this model has no mask token, so it cannot fill masks", "choose a masked-language model")
        for spelling in _MASK_SPELLINGS:
            if spelling != mask:
                text = text.replace(spelling, mask)
        if mask not in text:
            raise UserError(f"fill-mask needs the mask token {mask} in the text", f"e.g. Paris is the {mask} of France.")
        prepared = self.fit(text)
        if mask not in prepared.inputs:
            raise UserError("the mask token was cut off with the end of the text", "put the mask earlier, or shorten the text")
        return prepared

    def forward(self, text, params, cancel):
        return self.pipe(text, top_k=params.get("top_k", 5))

    @classmethod
    def format(cls, result):
        return "\n".join(f"{r['token_str']!r}: {r['score']:.4f}" for r in result)
