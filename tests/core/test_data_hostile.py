"""Hostile or sloppy data files: each problem is one UserError naming the file, the line and the fix."""
from __future__ import annotations

import json
import os
import threading

import pytest

from core.config import DataConfig, ModelConfig
from core.data.prepare import prepare_data
from core.errors import UserError

MODEL = ModelConfig(vocab_size=100, max_seq_len=16)
GOOD_ROWS = [{"text": f"{'fine good' if i % 2 else 'awful bad'} film {i}", "label": "pos" if i % 2 else "neg"}
             for i in range(20)]


def _prepare(path, **cfg):
    return prepare_data(DataConfig(source="file", train_path=str(path), **cfg), MODEL, seed=0)


def _error(path, **cfg) -> str:
    with pytest.raises(UserError) as info:
        _prepare(path, **cfg)
    message = str(info.value)
    assert "\n" not in message
    return message


def _jsonl(tmp_path, rows, raw_line: str | None = None, name="data.jsonl"):
    lines = [json.dumps(r) for r in rows]
    if raw_line is not None:
        lines.insert(2, raw_line)  # line 3
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _in_thread(fn):
    """Run ``fn`` with a deadline, so a read that blocks fails the test instead of hanging it."""
    outcome: list = []

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert outcome, "reading the path blocked"
    return outcome[0]


@pytest.mark.parametrize("role", ["train_path", "val_path"])
def test_a_fifo_is_refused_instead_of_blocking_for_ever(tmp_path, role):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    good = tmp_path / "good.csv"
    good.write_text("text,label\n" + "".join(f"{r['text']},{r['label']}\n" for r in GOOD_ROWS), encoding="utf-8")
    paths = {"train_path": str(fifo), "val_path": str(good)} if role == "train_path" else \
        {"train_path": str(good), "val_path": str(fifo)}
    exc = _in_thread(lambda: prepare_data(DataConfig(source="file", **paths), MODEL, seed=0))
    assert isinstance(exc, UserError)
    assert "pipe.csv" in str(exc) and "named pipe" in str(exc) and f"data.{role}" in str(exc)


def test_a_device_or_a_folder_is_refused(tmp_path):
    # A device behind a file name: /dev/null reads as empty, /dev/zero or a tty would never end.
    device = tmp_path / "data.csv"
    device.symlink_to("/dev/null")
    assert "character device" in _error(device)
    device.unlink()
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert "a folder" in _error(folder)


def test_a_link_to_a_regular_file_is_fine(tmp_path):
    target = _jsonl(tmp_path, GOOD_ROWS)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert len(_prepare(link).label_names) == 2


@pytest.mark.parametrize("value,kind", [([1, 2], "list"), ({"a": 1}, "object")])
@pytest.mark.parametrize("field", ["text", "label"])
def test_json_lists_and_objects_are_not_trained_as_their_repr(tmp_path, value, kind, field):
    bad = {"text": "a fine film", "label": "pos", field: value}
    message = _error(_jsonl(tmp_path, GOOD_ROWS, json.dumps(bad)))
    assert "data.jsonl, line 3" in message and f"'{field}'" in message and f"JSON {kind}" in message


def test_a_lone_surrogate_is_one_line_naming_the_line(tmp_path):
    message = _error(_jsonl(tmp_path, GOOD_ROWS, '{"text": "\\ud800", "label": "pos"}'))
    assert "data.jsonl, line 3" in message and "surrogate" in message and "'text'" in message
    # A complete pair is one character and reads fine.
    pair = _jsonl(tmp_path, GOOD_ROWS, '{"text": "fine \\ud83d\\ude00", "label": "pos"}', name="pair.jsonl")
    assert "fine \U0001F600" in _prepare(pair).train.texts + _prepare(pair).val.texts


@pytest.mark.parametrize("raw", ['{"text": "a film", "label": null}', '{"text": "a film", "label": NaN}',
                                 '{"text": "a film", "label": "NaN"}', '{"text": "a film", "label": ""}'])
def test_null_and_nan_labels_are_refused_not_made_classes(tmp_path, raw):
    message = _error(_jsonl(tmp_path, GOOD_ROWS, raw))
    assert "data.jsonl, line 3" in message and "no label" in message


def test_missing_labels_in_a_csv_are_counted(tmp_path):
    rows = ["text,label"] + [f"{r['text']},{r['label']}" for r in GOOD_ROWS]
    rows[3] = "a film,nan"
    rows[7] = "another film,"
    path = tmp_path / "d.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    message = _error(path)
    assert "d.csv, line 4" in message and "1 more row" in message


def test_a_class_with_a_single_example_cannot_be_split(tmp_path):
    # A typo ("postive") is a class of one: the validation split could never check it.
    message = _error(_jsonl(tmp_path, GOOD_ROWS, '{"text": "a fine film", "label": "postive"}'))
    assert "'postive' has a single example" in message and "data.val_path" in message
