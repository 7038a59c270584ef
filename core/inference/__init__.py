"""Prediction with a trained classifier, headless: what `twb predict` and `twb eval` run.

The API is small on purpose::

    from core.inference import load_model, predict_proba
    classifier = load_model("runs/sst2/best")         # a checkpoint, run folder, export or HF folder
    probs = predict_proba(classifier, texts)          # (N, C) float32, in the texts' order
    classifier.label_names[probs[i].argmax()]         # row i's label

``load_model`` raises ``core.errors.UserError`` (one line and a hint) for anything that is not a
classifier it can load; ``predict_proba`` matches ``transformers.pipeline("text-classification")``'s
scores. It sits above ``core.hf`` and ``core.training`` in the layers (pyproject.toml).
"""
from core.inference.loading import Classifier, load_model
from core.inference.predictor import predict_proba, top_labels

__all__ = ["Classifier", "load_model", "predict_proba", "top_labels"]
