"""Built-in data: the tutorial's random data and the learnable synthetic task."""
from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from core.data.builtin import NEGATIVE, POSITIVE, random_data, synthetic_data
from core.config import PRESETS, DataConfig, ModelConfig
from core.data.prepare import prepare_data


def test_seed_preset_is_the_tutorials_random_data():
    cfg = PRESETS["seed"]
    data = prepare_data(cfg.data, cfg.model, seed=42)
    assert data.label_names == ["0", "1"]
    assert len(data.train) + len(data.val) == 1000
    assert data.encoder.kind == "word" and data.encoder.vocab_size <= 1000
    assert all(len(ids) == 10 for ids in data.train.ids + data.val.ids)
    assert all(w.startswith("t") for w in data.train.texts[0].split())
    # Every generated word has its own id: nothing is unknown.
    assert data.summary["train_unknown_token_rate"] == 0.0


def test_random_data_labels_are_unrelated_to_texts():
    gen = random_data(4000, 2, vocab_size=50, seq_len=5, seed=0)
    by_word: dict[str, Counter] = defaultdict(Counter)
    for text, label in zip(gen.texts, gen.labels):
        for word in text.split():
            by_word[word][label] += 1
    # No word leans clearly towards a class: chance accuracy is all there is.
    shares = [c[1] / sum(c.values()) for c in by_word.values()]
    assert all(0.35 < s < 0.65 for s in shares)


def test_synthetic_is_deterministic_per_seed():
    assert synthetic_data(200, 2, seed=1).texts == synthetic_data(200, 2, seed=1).texts
    assert synthetic_data(200, 2, seed=1).texts != synthetic_data(200, 2, seed=2).texts


@pytest.mark.parametrize("classes,names", [
    (2, ["negative", "positive"]),
    (3, ["negative", "neutral", "positive"]),
    (5, ["sports", "food", "music", "travel", "science"]),
])
def test_synthetic_class_names_and_balance(classes, names):
    gen = synthetic_data(600, classes, seed=0)
    assert gen.label_names == names
    assert Counter(gen.labels) == {c: 600 // classes for c in range(classes)}


def test_synthetic_supports_more_classes_than_named_topics():
    gen = synthetic_data(120, 12, seed=0)
    assert len(gen.label_names) == len(set(gen.label_names)) == 12
    assert set(gen.labels) == set(range(12))


@pytest.mark.parametrize("classes", [2, 3, 12])
def test_synthetic_labels_follow_from_the_text(classes):
    # Learnable: the same sentence never carries two labels.
    gen = synthetic_data(3000, classes, seed=0)
    labels_of: dict[str, set[int]] = defaultdict(set)
    for text, label in zip(gen.texts, gen.labels):
        labels_of[text].add(label)
    assert all(len(s) == 1 for s in labels_of.values())


def test_synthetic_sentiment_uses_negation():
    gen = synthetic_data(2000, 2, seed=0)
    negated_positive_words = [t for t, y in zip(gen.texts, gen.labels)
                              if y == 0 and " not " in f" {t} " and any(f" {w}" in t for w in POSITIVE)]
    assert negated_positive_words, "some negative examples are negated positive words"
    plain = [t for t in gen.texts if not any(n in t.split() for n in ("not", "never", "hardly"))]
    for text in plain[:200]:
        words = set(text.split())
        assert not (words & set(POSITIVE) and words & set(NEGATIVE))


def test_default_synthetic_data_fits_the_default_model():
    cfg = PRESETS["default"]
    data = prepare_data(cfg.data, cfg.model, seed=42)
    assert data.label_names == ["negative", "positive"]
    assert data.summary["train_truncated"] == 0 and data.summary["train_unknown_token_rate"] == 0.0
    assert json.loads(json.dumps(data.summary))["source"] == "synthetic"
    # English words stay whole, so the attention viewer shows words, not fragments.
    assert data.encoder.tokens("the plot was not good") == ["the", "plot", "was", "not", "good"]


def test_builtin_split_uses_val_fraction():
    data = prepare_data(DataConfig(num_samples=500, val_fraction=0.2), ModelConfig(vocab_size=300), seed=0)
    assert (len(data.train), len(data.val)) == (400, 100)
