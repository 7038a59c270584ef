"""token-classification (alias ner): tag the words of a text."""
from __future__ import annotations

from core.hf.pipelines.native import NativeRunner
from core.hf.pipelines.runner import register
from core.hf.pipelines.spec import TaskField, TaskSpec


@register
class TokenClassification(NativeRunner):
    order = 60
    needs = "a token classification model"
    spec = TaskSpec(
        "token-classification", "Tag the words of a text (named entities with the default model).",
        "text", "Text", "token-classification", True, "dbmdz/bert-large-cased-finetuned-conll03-english",
        (TaskField("aggregation_strategy", "Grouping", "choice", "none",
                   "How word pieces are grouped into entities.",
                   choices=("none", "simple", "first", "average", "max")),),
        ("ignore_labels",),
    )

    def forward(self, text, params, cancel):
        kwargs = {"aggregation_strategy": params.get("aggregation_strategy") or "none"}
        if params.get("ignore_labels") is not None:
            kwargs["ignore_labels"] = params["ignore_labels"]
        return self.pipe(text, **kwargs)

    @classmethod
    def format(cls, result):
        return "\n".join(f"{r['word']} -> {r.get('entity_group') or r.get('entity')}: {r.get('score', 0):.4f}"
                         for r in result)
