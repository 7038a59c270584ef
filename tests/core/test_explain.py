"""Explanations of the workbench model trained on a task where "not" decides the label."""
import json
import random
import sys

import numpy as np
import pytest
import torch

from core.attention import attention_for_text
from core.errors import UserError
from core.explain import attributions
from core.explain.classifiers import WorkbenchExplainable, workbench_explainable
from core.explain.faithfulness import faithfulness
from core.explain.qkv import qkv_cell
from core.explain.rollout import rollout
from core.explain.text import explain_text
from core.explanation import GRAD_X_INPUT, INTEGRATED_GRADIENTS, ROLLOUT, Explanation
from core.training.checkpoint import ClassifierSnapshot, load_classifier
from explain_fixtures import DECIDING_WORD, not_texts, train_not_model

pytestmark = pytest.mark.usefixtures("one_thread")

NEGATED = ["the film was not very long", "not a movie this is", "people really did not like that ending",
           "the story is quite short it not"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    torch.set_num_threads(1)
    return train_not_model(tmp_path_factory.mktemp("not-task"))


@pytest.fixture(scope="module")
def clf(run_dir):
    return workbench_explainable(load_classifier(run_dir / "best"))


@pytest.fixture(scope="module")
def explanations(clf):
    return {text: explain_text(clf, text) for text in NEGATED}


def test_the_model_learned_the_task(clf):
    # The premise of the other tests: it predicts from "not".
    rows = not_texts(60, seed=7)
    for text, label in rows:
        probs = explain_text(clf, text, methods=()).prediction
        assert max(probs, key=probs.get) == label, text


@pytest.mark.parametrize("method", [INTEGRATED_GRADIENTS, GRAD_X_INPUT])
def test_gradient_methods_rank_the_deciding_word_first(explanations, method):
    for text, e in explanations.items():
        assert e.target == "negative"
        assert e.tokens[e.ranked(method)[0]] == DECIDING_WORD, (text, e.scores[method])


def test_integrated_gradients_are_complete_within_their_delta(clf, explanations):
    for text, e in explanations.items():
        enc = clf.encode(text)
        target = clf.label_names.index(e.target)
        gap = attributions.target_output(clf, enc.input_ids, enc.mask, target) \
            - attributions.target_output(clf, enc.baseline_ids, enc.mask, target)
        assert abs(sum(e.scores[INTEGRATED_GRADIENTS]) - gap) <= abs(e.delta) + 1e-4
        assert abs(e.delta) < 0.05 * abs(gap)  # 50 steps: the sum is close to the gap


def test_more_steps_shrink_the_delta(clf):
    enc = clf.encode(NEGATED[0])
    _, coarse = attributions.integrated_gradients(clf, enc, 0, steps=4)
    _, fine = attributions.integrated_gradients(clf, enc, 0, steps=200)
    assert abs(fine) < abs(coarse)


def reference_rollout(weights: np.ndarray) -> np.ndarray:
    """Abnar & Zuidema, written out: A_hat = 0.5 A + 0.5 I, rows renormalised, product over layers."""
    T = weights.shape[-1]
    joint = None
    for layer in range(weights.shape[0]):
        a = torch.tensor(weights[layer], dtype=torch.float64).mean(dim=0)
        a_hat = 0.5 * a + 0.5 * torch.eye(T, dtype=torch.float64)
        a_hat = a_hat / a_hat.sum(dim=-1, keepdim=True)
        joint = a_hat if joint is None else a_hat @ joint
    return joint.numpy()


def test_rollout_matches_the_reference_and_rows_sum_to_one():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 2, 7, 7))
    weights = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    ours = rollout(weights)
    np.testing.assert_allclose(ours, reference_rollout(weights), atol=1e-12)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, atol=1e-12)


def test_rollout_of_the_trained_model(clf, explanations):
    view = attention_for_text(clf.model, clf.encoder, NEGATED[0], clf.max_seq_len, clf.label_names)
    rolled = rollout(view.weights)
    np.testing.assert_allclose(rolled.sum(axis=-1), 1.0, atol=1e-6)
    # mean pooling: the token scores are the mean row, a distribution over the tokens
    e = explanations[NEGATED[0]]
    np.testing.assert_allclose(e.scores[ROLLOUT], rolled.mean(axis=0), atol=1e-6)
    assert sum(e.scores[ROLLOUT]) == pytest.approx(1.0, abs=1e-6)


def test_comprehensiveness_of_the_top_token_beats_a_random_token(clf, explanations):
    rng = random.Random(3)
    for text, e in explanations.items():
        enc = clf.encode(text)
        target = clf.label_names.index(e.target)
        top = e.faithfulness[INTEGRATED_GRADIENTS]
        other = rng.choice([i for i in range(len(e.tokens)) if e.tokens[i] != DECIDING_WORD])
        random_one = faithfulness(clf, enc, target, [other])
        assert top.k == 1
        assert top.comprehensiveness > random_one.comprehensiveness + 0.5
        assert top.sufficiency < random_one.sufficiency  # "not" alone carries the prediction


def test_qkv_numbers_reproduce_the_shown_attention_weight(clf):
    text = NEGATED[2]
    view = attention_for_text(clf.model, clf.encoder, text, clf.max_seq_len, clf.label_names)
    enc = clf.encode(text)
    for layer in range(view.num_layers):
        for head in range(view.num_heads):
            for query, key in [(0, 0), (3, 4), (len(enc.tokens) - 1, 1)]:
                cell = qkv_cell(clf, enc, layer, head, query, key)
                assert cell.weight == pytest.approx(float(view.weights[layer, head, query, key]), abs=1e-5)
                # the steps the panel shows, recomputed from its own numbers
                assert cell.dot == pytest.approx(float(np.dot(cell.q, cell.k)), abs=1e-9)
                assert cell.scaled == pytest.approx(cell.dot / cell.scale, abs=1e-9)
                np.testing.assert_allclose(np.exp(cell.scores) / np.exp(cell.scores).sum(), cell.weights, atol=1e-9)
                np.testing.assert_allclose(np.array(cell.weights) @ np.array(cell.values), cell.output, atol=1e-9)
    assert cell.tokens == enc.tokens


def test_a_training_snapshot_without_grad_is_explained(clf):
    lock = __import__("threading").Lock()
    snap = ClassifierSnapshot.copy_of(clf.model, clf.encoder, clf.label_names, clf.max_seq_len, lock)
    assert not any(p.requires_grad for p in snap.model.parameters())
    e = explain_text(workbench_explainable(snap), NEGATED[0])
    assert not e.unavailable
    assert e.tokens[e.ranked(INTEGRATED_GRADIENTS)[0]] == DECIDING_WORD


def test_a_model_without_gradients_still_gets_rollout_and_says_why(run_dir):
    with torch.inference_mode():  # weights made here are inference tensors: autograd refuses them
        loaded = load_classifier(run_dir / "best")
    e = explain_text(workbench_explainable(loaded), NEGATED[0])
    assert set(e.scores) == {ROLLOUT}
    assert set(e.unavailable) == {GRAD_X_INPUT, INTEGRATED_GRADIENTS}
    assert "no gradients" in e.unavailable[INTEGRATED_GRADIENTS]
    assert ROLLOUT in e.faithfulness


def test_without_captum_integrated_gradients_names_the_extra(clf, monkeypatch):
    monkeypatch.setitem(sys.modules, "captum.attr", None)  # import fails as if not installed
    e = explain_text(clf, NEGATED[0])
    assert INTEGRATED_GRADIENTS not in e.scores and GRAD_X_INPUT in e.scores
    assert "pip install 'transformer-workbench[explain]'" in e.unavailable[INTEGRATED_GRADIENTS]


def test_a_text_longer_than_the_model_takes_is_truncated_with_a_notice(clf):
    text = " ".join(["the film was long"] * 20)  # 80 words, max_seq_len 32
    e = explain_text(clf, text)
    assert len(e.tokens) == clf.max_seq_len and e.truncated == 80 - clf.max_seq_len


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_text_is_a_user_error(clf, text):
    with pytest.raises(UserError, match="empty"):
        explain_text(clf, text)


def test_a_chosen_class_and_bad_settings(clf):
    e = explain_text(clf, NEGATED[0], target="positive")
    assert e.target == "positive" and e.predicted == "negative"
    # for the other class, "not" is the strongest evidence against
    assert e.tokens[e.ranked(INTEGRATED_GRADIENTS)[-1]] == DECIDING_WORD
    with pytest.raises(UserError, match="no class 'maybe'"):
        explain_text(clf, NEGATED[0], target="maybe")
    for steps in (0, 10**6):
        with pytest.raises(UserError, match="1 to 2000 steps"):
            explain_text(clf, NEGATED[0], steps=steps)
    with pytest.raises(UserError, match="top-k"):
        explain_text(clf, NEGATED[0], top_k=0)


def test_an_explanation_round_trips_through_json(explanations):
    e = explanations[NEGATED[0]]
    back = Explanation.from_record(json.loads(json.dumps(e.to_record())))
    assert back == e
