"""Explanations of Hugging Face classifiers: a tiny BERT, and a workbench model exported to HF format."""
import numpy as np
import pytest
import torch

from core.errors import UserError
from core.explain import attributions
from core.explain.classifiers import hf_explainable, workbench_explainable
from core.explain.rollout import rollout
from core.explain.text import explain_text
from core.explanation import GRAD_X_INPUT, INTEGRATED_GRADIENTS, ROLLOUT
from core.training.checkpoint import load_classifier
from explain_fixtures import train_not_model
from hf_fixtures import build_bert_classifier, build_gpt2

pytestmark = pytest.mark.usefixtures("one_thread", "private_data_dir")

TEXT = "a b c hello world"


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return hf_explainable(str(build_bert_classifier(tmp_path_factory.mktemp("bert-cls"))))


def test_special_tokens_stay_in_the_baseline(bert):
    enc = bert.encode(TEXT)
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    assert enc.special[0] and enc.special[-1] and not any(enc.special[1:-1])
    ids, base = enc.input_ids[0].tolist(), enc.baseline_ids[0].tolist()
    assert base[0] == ids[0] and base[-1] == ids[-1]
    assert set(base[1:-1]) == {bert.tokenizer.pad_token_id}


def test_bert_explanation_is_complete_and_rollout_reads_cls(bert):
    e = explain_text(bert, TEXT)
    assert not e.unavailable and set(e.scores) == {ROLLOUT, GRAD_X_INPUT, INTEGRATED_GRADIENTS}
    assert set(e.prediction) == {"NEGATIVE", "POSITIVE"}
    enc = bert.encode(TEXT)
    target = bert.label_names.index(e.target)
    gap = attributions.target_output(bert, enc.input_ids, enc.mask, target) \
        - attributions.target_output(bert, enc.baseline_ids, enc.mask, target)
    assert abs(sum(e.scores[INTEGRATED_GRADIENTS]) - gap) <= abs(e.delta) + 1e-5
    _, maps, _ = bert.attention(enc.input_ids, enc.mask)
    np.testing.assert_allclose(e.scores[ROLLOUT], rollout(maps.numpy())[0], atol=1e-6)
    assert sum(e.scores[ROLLOUT]) == pytest.approx(1.0, abs=1e-6)


def test_gradient_x_input_matches_captum(bert):
    from captum.attr import LayerGradientXActivation

    enc = bert.encode(TEXT)
    ours = attributions.gradient_x_input(bert, enc, 1)
    reference = LayerGradientXActivation(lambda ids, mask: bert.logits(ids, mask)[:, 1], bert.embedding_layer)
    theirs = reference.attribute(enc.input_ids, additional_forward_args=(enc.mask,)).sum(dim=-1)[0]
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_an_exported_workbench_folder_explains_as_its_checkpoint(tmp_path):
    from core.hf.export import export_checkpoint

    torch.set_num_threads(1)
    run = train_not_model(tmp_path)
    folder = export_checkpoint(run / "best", tmp_path / "exported")
    text = "the film was not very long"
    from_checkpoint = explain_text(workbench_explainable(load_classifier(run / "best")), text)
    from_folder = explain_text(hf_explainable(str(folder)), text)
    assert from_folder.tokens == from_checkpoint.tokens
    for method, row in from_checkpoint.scores.items():
        np.testing.assert_allclose(from_folder.scores[method], row, rtol=1e-4, atol=1e-5)
    long_text = " ".join(["the film"] * 40)
    assert explain_text(hf_explainable(str(folder)), long_text, methods=(ROLLOUT,)).truncated == 80 - 32


def test_a_model_that_is_not_a_classifier_is_refused(tmp_path):
    with pytest.raises(UserError, match="not a sequence classifier"):
        hf_explainable(str(build_gpt2(tmp_path / "gpt2")))
    with pytest.raises(UserError, match="no model given"):
        hf_explainable("  ")
