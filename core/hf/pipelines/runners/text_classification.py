"""text-classification (alias sentiment-analysis): label a text."""
from __future__ import annotations

from core.hf.pipelines.native import NativeRunner
from core.hf.pipelines.runner import label_lines, register
from core.hf.pipelines.spec import TaskField, TaskSpec


@register
class TextClassification(NativeRunner):
    order = 10
    needs = "a sequence classification model"
    spec = TaskSpec(
        "text-classification", "Label a text (sentiment with the default model).", "text", "Text",
        "text-classification", True, "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        (TaskField("top_k", "Top k", "int", 1, "How many labels to show, best first."),),
        ("function_to_apply",),
    )

    def forward(self, text, params, cancel):
        kwargs = {k: params[k] for k in ("top_k", "function_to_apply") if params.get(k) is not None}
        return self.pipe(text, **kwargs)

    @classmethod
    def format(cls, result):
        return label_lines(result)
