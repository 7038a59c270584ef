"""zero-shot-classification: score a text against labels the user chooses (an NLI model)."""
from __future__ import annotations

from core.errors import UserError
from core.hf.pipelines.native import NativeRunner
from core.hf.pipelines.runner import register
from core.hf.pipelines.spec import TaskField, TaskSpec


@register
class ZeroShotClassification(NativeRunner):
    order = 50
    needs = "a sequence classification (NLI) model"
    spec = TaskSpec(
        "zero-shot-classification", "Score a text against labels you choose.", "text", "Text",
        "zero-shot-classification", True, "facebook/bart-large-mnli",
        (TaskField("candidate_labels", "Labels", "list", None, "Comma-separated labels to score.", True),
         TaskField("multi_label", "Multi-label", "bool", False, "Score each label independently.")),
        ("hypothesis_template",),
    )

    def forward(self, text, params, cancel):
        labels = params.get("candidate_labels")
        if isinstance(labels, str):
            labels = [part.strip() for part in labels.split(",") if part.strip()]
        if not labels:
            raise UserError("zero-shot-classification needs candidate labels", "e.g. --param candidate_labels=travel,cooking")
        kwargs = {"multi_label": bool(params.get("multi_label", False))}
        if params.get("hypothesis_template"):
            kwargs["hypothesis_template"] = params["hypothesis_template"]
        return self.pipe(text, candidate_labels=list(labels), **kwargs)

    @classmethod
    def format(cls, result):
        return "\n".join(f"{label}: {score:.4f}" for label, score in zip(result["labels"], result["scores"]))
