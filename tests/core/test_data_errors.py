"""Every bad input a user can hand prepare_data is a UserError naming the file, line and fix."""
from __future__ import annotations

import pytest

from core.config import DataConfig, ModelConfig
from core.data.prepare import prepare_data
from core.errors import UserError

MODEL = ModelConfig(vocab_size=100, max_seq_len=16)


def _error(tmp_path, name: str, content: str | bytes, **cfg) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as info:
        prepare_data(DataConfig(source="file", train_path=str(path), **cfg), MODEL, seed=0)
    return str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(UserError) as info:
        prepare_data(DataConfig(source="file", train_path=str(tmp_path / "nope.csv")), MODEL, seed=0)
    assert "nope.csv" in str(info.value) and "not found" in str(info.value)


def test_no_training_path():
    with pytest.raises(UserError, match="train_path"):
        prepare_data(DataConfig(source="file"), MODEL, seed=0)


def test_empty_file(tmp_path):
    message = _error(tmp_path, "empty.csv", "\n\n")
    assert "empty.csv" in message and "empty" in message


def test_header_without_examples(tmp_path):
    assert "no examples" in _error(tmp_path, "h.tsv", "label\tsentence\n")


def test_no_recognisable_columns_lists_the_columns_and_the_setting(tmp_path):
    message = _error(tmp_path, "odd.csv", "foo,bar\nx,1\ny,0\n")
    assert "'foo', 'bar'" in message and "data.text_column" in message


def test_configured_column_missing(tmp_path):
    message = _error(tmp_path, "c.csv", "text,label\nx,1\ny,0\n", label_column="stars")
    assert "'stars'" in message and "'text', 'label'" in message and "data.label_column" in message


def test_one_class_only(tmp_path):
    message = _error(tmp_path, "one.csv", "text,label\na,pos\nb,pos\nc,pos\n")
    assert "'pos'" in message and "two classes" in message


def test_validation_label_never_seen_in_training(tmp_path):
    (tmp_path / "dev.csv").write_text("text,label\nfine,pos\nodd,maybe\n", encoding="utf-8")
    message = _error(tmp_path, "train.csv", "text,label\na,pos\nb,neg\n", val_path=str(tmp_path / "dev.csv"))
    assert "dev.csv, line 3" in message and "'maybe'" in message


def test_undecodable_bytes_name_the_line_and_suggest_utf8(tmp_path):
    message = _error(tmp_path, "latin.csv", "text,label\nok,a\n".encode() + "caf\xe9,b\n".encode("latin-1"))
    assert "latin.csv, line 3" in message and "UTF-8" in message


def test_ragged_row(tmp_path):
    message = _error(tmp_path, "r.tsv", "label\tsentence\n1\tfine\n0\ttoo\tmany\n")
    assert "r.tsv, line 3" in message and "expected 2" in message and "got 3" in message


def test_ragged_row_after_a_multiline_quoted_field_counts_physical_lines(tmp_path):
    message = _error(tmp_path, "m.csv", 'text,label\n"two\nlines",a\nb\n')
    assert "m.csv, line 4" in message and "got 1" in message


def test_malformed_jsonl_line(tmp_path):
    message = _error(tmp_path, "bad.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": \n')
    assert "bad.jsonl, line 2" in message and "JSON" in message


def test_jsonl_line_that_is_not_an_object(tmp_path):
    assert "line 2" in _error(tmp_path, "arr.jsonl", '{"text": "a", "label": 1}\n[1, 2]\n')


def test_jsonl_missing_field(tmp_path):
    message = _error(tmp_path, "f.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n')
    assert "line 2" in message and "'label'" in message


def test_empty_label(tmp_path):
    assert "c.csv, line 3" in _error(tmp_path, "c.csv", "text,label\na,x\nb,\nc,y\n")


def test_unknown_extension(tmp_path):
    message = _error(tmp_path, "data.xlsx", "whatever")
    assert ".xlsx" in message and ".csv" in message


def test_too_few_examples_to_split(tmp_path):
    message = _error(tmp_path, "two.csv", "text,label\na,x\nb,y\n")
    assert "two.csv" in message and "'x', 'y' have a single example" in message and "data.val_path" in message


def test_unknown_source():
    with pytest.raises(UserError, match="data.source"):
        prepare_data(DataConfig(source="web"), MODEL, seed=0)


def test_a_label_column_with_a_value_per_row_is_not_a_set_of_classes(tmp_path):
    rows = "".join(f"text {i},{i * 0.37:.2f}\n" for i in range(60))
    message = _error(tmp_path, "scores.csv", "text,label\n" + rows)
    assert "60 different values" in message and "data.label_column" in message
