"""feature-extraction: the last layer's hidden states, one vector per token (shape and tokens by default)."""
from __future__ import annotations

from core.hf.pipelines.native import NativeRunner
from core.hf.pipelines.runner import register
from core.hf.pipelines.spec import TaskField, TaskSpec
from core.hf.pipelines.text_limits import to_plain, token_ids


@register
class FeatureExtraction(NativeRunner):
    order = 40
    needs = "a transformers base model (a workbench export is a classifier: use text-classification)"
    uses_head = False  # the bare model: there is no head to be missing
    spec = TaskSpec(
        "feature-extraction", "Hidden states of the last layer, one vector per token.", "text", "Text",
        "feature-extraction", True, "distilbert/distilbert-base-cased",
        (TaskField("return_values", "Values", "bool", False,
                   "Also return every number of the hidden states, not only their shape."),),
    )

    def forward(self, text, params, cancel):
        return text, self.pipe(text, return_tensors=True)  # (1, T, H)

    def postprocess(self, raw, params):
        text, hidden = raw
        ids = token_ids(self.pipe.tokenizer, text)
        result = {"shape": list(hidden.shape), "tokens": self.pipe.tokenizer.convert_ids_to_tokens(ids)}
        if params.get("return_values"):
            result["features"] = to_plain(hidden)
        return result

    @classmethod
    def format(cls, result):
        shape = "x".join(str(n) for n in result["shape"])
        return f"hidden states {shape}: {' '.join(result['tokens'])}"
