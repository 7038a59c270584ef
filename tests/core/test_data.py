"""prepare_data on files: formats, column detection, labels, splits, encoding, summary."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from core.config import DataConfig, ModelConfig
from core.data.prepare import label_order, prepare_data, stratified_split
from core.errors import UserError
from tests.conftest import SST2_DIR

MODEL = ModelConfig(vocab_size=200, max_seq_len=16)


def _file_cfg(path, **kw) -> DataConfig:
    return DataConfig(source="file", train_path=str(path), **kw)


def _spam_csv(path, n=40):
    rows = ["v1,v2"]
    for i in range(n):
        if i % 4 == 0:
            rows.append(f'spam,"WIN a prize, call now {i}!"')
        else:
            rows.append(f"ham,see you at lunch {i}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_with_spam_style_columns_and_string_labels(tmp_path):
    data = prepare_data(_file_cfg(_spam_csv(tmp_path / "spam.csv")), MODEL, seed=1)
    assert data.label_names == ["ham", "spam"]
    assert data.summary["text_column"] == "v2" and data.summary["label_column"] == "v1"
    # A quoted field keeps its comma; the label follows the text.
    i = next(i for i, t in enumerate(data.train.texts + data.val.texts) if t.startswith("WIN"))
    labels = data.train.labels + data.val.labels
    assert data.label_names[labels[i]] == "spam"
    assert "prize, call" in (data.train.texts + data.val.texts)[i]


def test_split_is_stratified_and_seeded(tmp_path):
    cfg = _file_cfg(_spam_csv(tmp_path / "spam.csv", n=200), val_fraction=0.25)
    a = prepare_data(cfg, MODEL, seed=1)
    assert len(a.train) + len(a.val) == 200
    assert Counter(a.val.labels) == {0: 38, 1: 12}  # 25% of 150 ham and of 50 spam
    assert set(a.train.texts).isdisjoint(a.val.texts)
    b = prepare_data(cfg, MODEL, seed=1)
    assert b.val.texts == a.val.texts
    c = prepare_data(cfg, MODEL, seed=2)
    assert c.val.texts != a.val.texts


def test_stratified_split_keeps_every_class_in_training():
    train, val = stratified_split([0, 0, 0, 0, 1, 1, 2], 0.5, seed=0)
    labels = [0, 0, 0, 0, 1, 1, 2]
    assert {labels[i] for i in train} == {0, 1, 2}
    assert sorted(train + val) == list(range(7))
    assert Counter(labels[i] for i in val) == {0: 2, 1: 1}


def test_tsv_is_read_without_quoting(tmp_path):
    path = tmp_path / "quotes.tsv"
    path.write_text('label\tsentence\n1\t"a quoted" start\n0\tit \'s the end "\n1\tplain\n0\tother\n',
                    encoding="utf-8")
    data = prepare_data(_file_cfg(path, val_fraction=0.5), MODEL, seed=0)
    texts = set(data.train.texts + data.val.texts)
    assert texts == {'"a quoted" start', "it 's the end \"", "plain", "other"}


def test_jsonl_and_explicit_columns(tmp_path):
    path = tmp_path / "reviews.jsonl"
    lines = [json.dumps({"id": i, "body_text": f"review {i} was {'good' if i % 2 else 'bad'}", "stars": i % 2})
             for i in range(20)]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    cfg = _file_cfg(path, text_column="body_text", label_column="stars", val_path="")
    data = prepare_data(cfg, MODEL, seed=0)
    assert data.label_names == ["0", "1"]
    assert len(data.train) + len(data.val) == 20
    assert data.summary["text_column"] == "body_text"


def test_numeric_labels_sort_numerically_and_1_0_equals_1(tmp_path):
    path = tmp_path / "n.csv"
    rows = ["text,label"] + [f"t{i},{lab}" for i, lab in enumerate(["10", "2", "1", "1.0", "2", "10"] * 3)]
    path.write_text("\n".join(rows), encoding="utf-8")
    data = prepare_data(_file_cfg(path, val_fraction=0.3), MODEL, seed=0)
    assert data.label_names == ["1", "2", "10"]
    assert label_order({"class10", "class2", "Class1"}) == ["Class1", "class2", "class10"]


def test_separate_validation_file_with_its_own_column_names(tmp_path):
    train = tmp_path / "train.tsv"
    train.write_text("label\tsentence\n0\tbad film\n1\tgood film\n1\tgreat film\n", encoding="utf-8")
    dev = tmp_path / "dev.tsv"
    dev.write_text("label\tcontent\n1\tgood\n0\tbad\n", encoding="utf-8")
    cfg = _file_cfg(train, val_path=str(dev), text_column="sentence")
    data = prepare_data(cfg, MODEL, seed=0)
    assert data.train.texts == ["bad film", "good film", "great film"]
    assert data.val.texts == ["good", "bad"] and data.val.labels == [1, 0]
    assert data.summary["val_text_column"] == "content"


def test_encoder_is_trained_on_the_training_split_only(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("text,label\nbad film,0\ngood film,1\n", encoding="utf-8")
    dev = tmp_path / "dev.csv"
    dev.write_text("text,label\nzebra film,1\n", encoding="utf-8")
    data = prepare_data(_file_cfg(train, val_path=str(dev), tokenizer="word"), MODEL, seed=0)
    zebra, film = data.val.ids[0]
    assert zebra == data.encoder.unk_id and film != data.encoder.unk_id


def test_truncation_and_empty_texts(tmp_path):
    path = tmp_path / "t.csv"
    long_text = " ".join(f"w{i}" for i in range(40))
    path.write_text(f'text,label\n"{long_text}",a\n"",b\n"   ",a\n"☃ ☃",b\nshort,a\nother,b\n', encoding="utf-8")
    data = prepare_data(_file_cfg(path, val_fraction=0.3, tokenizer="word"), ModelConfig(vocab_size=50, max_seq_len=8), 0)
    all_ids = data.train.ids + data.val.ids
    texts = data.train.texts + data.val.texts
    assert all(1 <= len(ids) <= 8 for ids in all_ids)
    assert all_ids[texts.index(long_text)] == data.encoder.encode(long_text)[:8]
    assert all_ids[texts.index("")] == [data.encoder.unk_id]
    assert data.summary["train_truncated"] == (1 if long_text in data.train.texts else 0)


def test_summary_is_plain_json(tmp_path):
    data = prepare_data(_file_cfg(_spam_csv(tmp_path / "spam.csv")), MODEL, seed=1)
    summary = json.loads(json.dumps(data.summary))
    assert summary["source"] == "file" and summary["tokenizer"] == "wordpiece"
    assert summary["train_examples"] == len(data.train) and summary["val_examples"] == len(data.val)
    assert summary["train_class_counts"] == {"ham": 27, "spam": 9}
    assert summary["label_names"] == ["ham", "spam"]
    assert 0 < summary["train_mean_length"] <= summary["train_max_length"] <= MODEL.max_seq_len


@pytest.mark.skipif(not (SST2_DIR / "train.tsv").is_file(), reason="SST-2 not present")
def test_sst2_prepares_in_seconds():
    cfg = DataConfig(source="file", train_path=str(SST2_DIR / "train.tsv"), val_path=str(SST2_DIR / "dev.tsv"))
    started = time.perf_counter()
    data = prepare_data(cfg, ModelConfig(vocab_size=8000, max_seq_len=64), seed=42)
    seconds = time.perf_counter() - started
    assert (len(data.train), len(data.val)) == (67349, 872)
    assert data.label_names == ["0", "1"]
    assert data.summary["text_column"] == "sentence" and data.summary["val_text_column"] == "content"
    assert data.summary["train_unknown_token_rate"] < 0.01
    assert data.encoder.vocab_size == 8000
    # A few seconds on one core; generous for shared test machines.
    assert seconds < 30, f"SST-2 took {seconds:.1f}s to prepare"


def test_headerless_file_like_the_sms_spam_collection(tmp_path):
    path = tmp_path / "SMSSpamCollection.txt"
    rows = [f"{'spam' if i % 5 == 0 else 'ham'}\tmessage number {i} with some words" for i in range(30)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = prepare_data(_file_cfg(path), MODEL, seed=0)
    assert data.label_names == ["ham", "spam"]
    assert len(data.train) + len(data.val) == 30  # the first line is an example, not a header
    assert data.summary["text_column"] == "column 2" and data.summary["label_column"] == "column 1"


def test_header_with_unknown_names_is_not_mistaken_for_data(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("words,verdict\n" + "".join(f"text {i},{'yes' if i % 2 else 'no'}\n" for i in range(20)),
                    encoding="utf-8")
    with pytest.raises(UserError, match="'words', 'verdict'"):
        prepare_data(_file_cfg(path), MODEL, seed=0)
    data = prepare_data(_file_cfg(path, text_column="words", label_column="verdict"), MODEL, seed=0)
    assert data.label_names == ["no", "yes"] and len(data.train) + len(data.val) == 20
