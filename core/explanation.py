"""Why a classifier predicted what it did for one text, as plain numbers for the viewer.

``Explanation`` is what the explanation view draws and a session records, whatever model
produced it (``core/explain`` computes it). Like ``core.attention.AttentionView`` it holds only
strings, floats and lists, so it crosses threads, goes into JSON and is read back without torch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

GRAD_X_INPUT = "grad_x_input"
INTEGRATED_GRADIENTS = "integrated_gradients"
ROLLOUT = "rollout"
METHODS = (INTEGRATED_GRADIENTS, GRAD_X_INPUT, ROLLOUT)  # the order the viewer lists them
METHOD_NAMES = {
    INTEGRATED_GRADIENTS: "integrated gradients",
    GRAD_X_INPUT: "gradient x input",
    ROLLOUT: "attention rollout",
}


@dataclass(frozen=True)
class Faithfulness:
    """How much the predicted class's probability depends on a method's top-k tokens.

    comprehensiveness = p(text) - p(text without them): high when they were needed;
    sufficiency = p(text) - p(only them): low when they suffice on their own.
    """

    k: int
    comprehensiveness: float
    sufficiency: float


@dataclass(frozen=True)
class Explanation:
    tokens: list[str]  # the tokens the model saw (special tokens such as [CLS] included)
    target: str  # the class explained: the predicted one unless one was chosen
    prediction: dict[str, float]  # label name -> probability
    scores: dict[str, list[float]]  # method -> one score per token (positive: for the target)
    delta: float | None = None  # Integrated Gradients' convergence delta (completeness error)
    steps: int = 0  # Integrated Gradients' steps
    faithfulness: dict[str, Faithfulness] = field(default_factory=dict)  # method -> figures
    unavailable: dict[str, str] = field(default_factory=dict)  # method -> why it could not run
    source: str = "workbench model"  # "workbench model", a checkpoint or a Hugging Face model
    truncated: int = 0  # tokens cut off the end of the text to fit the model
    text: str = ""

    def __post_init__(self) -> None:
        for method, row in self.scores.items():
            if len(row) != len(self.tokens):
                raise ValueError(f"{method}: {len(row)} scores for {len(self.tokens)} tokens")
        object.__setattr__(self, "tokens", list(self.tokens))
        object.__setattr__(self, "scores", {m: [float(s) for s in row] for m, row in self.scores.items()})

    @property
    def predicted(self) -> str:
        return max(self.prediction.items(), key=lambda kv: kv[1])[0]

    def ranked(self, method: str) -> list[int]:
        """Token positions by score, highest first (ties keep sentence order)."""
        row = self.scores[method]
        return sorted(range(len(row)), key=lambda i: -row[i])

    def to_record(self) -> dict[str, Any]:
        """Plain JSON data (for sessions and exports)."""
        return {
            "tokens": self.tokens, "target": self.target, "prediction": self.prediction,
            "scores": self.scores, "delta": self.delta, "steps": self.steps,
            "faithfulness": {m: [f.k, f.comprehensiveness, f.sufficiency] for m, f in self.faithfulness.items()},
            "unavailable": self.unavailable, "source": self.source, "truncated": self.truncated, "text": self.text,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Explanation":
        """ValueError/KeyError/TypeError when the record is damaged."""
        delta = record.get("delta")
        return cls(
            tokens=[str(t) for t in record["tokens"]], target=str(record["target"]),
            prediction={str(k): float(v) for k, v in record["prediction"].items()},
            scores={str(m): [float(s) for s in row] for m, row in record["scores"].items()},
            delta=None if delta is None else float(delta), steps=int(record.get("steps", 0)),
            faithfulness={str(m): Faithfulness(int(v[0]), float(v[1]), float(v[2]))
                          for m, v in (record.get("faithfulness") or {}).items()},
            unavailable={str(k): str(v) for k, v in (record.get("unavailable") or {}).items()},
            source=str(record.get("source", "workbench model")), truncated=int(record.get("truncated", 0)),
            text=str(record.get("text", "")),
        )


def normalised(row: list[float]) -> list[float]:
    """Scores scaled into [-1, 1] by the largest magnitude (for shading); all zeros stay zeros."""
    top = max((abs(s) for s in row if math.isfinite(s)), default=0.0)
    return [0.0 if not top or not math.isfinite(s) else s / top for s in row]
