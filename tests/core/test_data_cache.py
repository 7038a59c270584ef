"""The prepared-data cache: a second run reads what the first built, and nothing stale or damaged
is ever read (tests/conftest.py gives every test its own TWB_CACHE_DIR)."""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.commands.printer import HeadlessPrinter
from core.config import DataConfig, ModelConfig
from core.data.cache import cache_root
from core.data.prepare import prepare_data
from core.events import RunStarted

MODEL = ModelConfig(vocab_size=200, max_seq_len=16)


def _reviews(path: Path, n: int = 120, word: str = "great") -> Path:
    rows = ["sentence\tlabel"]
    rows += [f"a {word} film number {i}\t1" if i % 2 else f"a dull film, sadly {i}\t0" for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _cfg(path: Path, **kw) -> DataConfig:
    return DataConfig(source="file", train_path=str(path), **kw)


def _entries() -> list[Path]:
    folder = cache_root() / "data"
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


def _same(a, b) -> None:
    for x, y in ((a.train, b.train), (a.val, b.val)):
        assert (x.texts, x.ids, x.labels) == (y.texts, y.ids, y.labels)
    assert a.label_names == b.label_names
    assert a.encoder.vocab_size == b.encoder.vocab_size
    assert a.encoder.encode("a great film, unseen words") == b.encoder.encode("a great film, unseen words")


def test_second_prepare_reads_the_cache_and_gives_the_same_data(tmp_path):
    cfg = _cfg(_reviews(tmp_path / "r.tsv"))
    first = prepare_data(cfg, MODEL, seed=3)
    assert first.summary["cache"] == "built and saved to the cache"
    second = prepare_data(cfg, MODEL, seed=3)
    assert second.summary["cache"].startswith("cached (")
    _same(first, second)
    assert {k: v for k, v in first.summary.items() if k not in ("cache", "prepare_seconds")} == \
        {k: v for k, v in second.summary.items() if k not in ("cache", "prepare_seconds")}
    assert len(_entries()) == 1


@pytest.mark.parametrize("change", ["file", "max_seq_len", "lowercase", "seed", "tokenizer"])
def test_a_changed_file_or_setting_never_reads_the_old_entry(tmp_path, change):
    path = _reviews(tmp_path / "r.tsv")
    cfg, model, seed = _cfg(path), MODEL, 3
    prepare_data(cfg, model, seed)
    if change == "file":
        _reviews(path, word="superb")  # same size and shape, other words
    elif change == "max_seq_len":
        model = replace(model, max_seq_len=4)
    elif change == "lowercase":
        cfg = replace(cfg, lowercase=False)
    elif change == "seed":
        seed = 4  # draws another validation split
    else:
        cfg = replace(cfg, tokenizer="word")
    again = prepare_data(cfg, model, seed)
    assert again.summary["cache"] == "built and saved to the cache"
    assert len(_entries()) == 2
    if change == "file":
        assert any("superb" in t for t in again.train.texts)
    if change == "max_seq_len":
        assert max(len(s) for s in again.train.ids) <= 4


def test_the_seed_does_not_matter_with_a_validation_file(tmp_path):
    cfg = _cfg(_reviews(tmp_path / "r.tsv"), val_path=str(_reviews(tmp_path / "v.tsv", n=20)))
    prepare_data(cfg, MODEL, seed=1)
    assert prepare_data(cfg, MODEL, seed=2).summary["cache"].startswith("cached (")


@pytest.mark.parametrize("damage", ["cut_ids", "bad_json", "missing_tokenizer", "ids_out_of_range", "empty_file"])
def test_a_damaged_entry_is_rebuilt_with_a_notice(tmp_path, damage):
    cfg = _cfg(_reviews(tmp_path / "r.tsv"))
    first = prepare_data(cfg, MODEL, seed=3)
    (entry,) = _entries()
    if damage == "cut_ids":
        data = (entry / "train_ids.npy").read_bytes()
        (entry / "train_ids.npy").write_bytes(data[: len(data) // 2])
    elif damage == "bad_json":
        (entry / "entry.json").write_text("{not json", encoding="utf-8")
    elif damage == "missing_tokenizer":
        (entry / "tokenizer.json").unlink()
    elif damage == "ids_out_of_range":
        np.save(entry / "val_ids.npy", np.full_like(np.load(entry / "val_ids.npy"), 10**6))
    else:
        (entry / "texts.json").write_bytes(b"")
    again = prepare_data(cfg, MODEL, seed=3)
    assert "unreadable" in again.summary["cache"] and "rebuilt" in again.summary["cache"]
    # Rebuilt, not read: the same examples (WordPiece may number tied pieces differently).
    assert (again.train.texts, again.train.labels) == (first.train.texts, first.train.labels)
    assert len(again.val.ids) == len(first.val.ids)
    assert prepare_data(cfg, MODEL, seed=3).summary["cache"].startswith("cached (")  # whole again


def test_an_unwritable_cache_folder_costs_only_the_cache(tmp_path, monkeypatch):
    # A file where the folder should be: no one, root included, can create the cache there.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("TWB_CACHE_DIR", str(blocker))
    data = prepare_data(_cfg(_reviews(tmp_path / "r.tsv")), MODEL, seed=3)
    assert data.summary["cache"].startswith("not cached (") and len(data.train) > 0
    assert blocker.read_text(encoding="utf-8") == ""


def test_built_in_data_is_not_cached():
    data = prepare_data(DataConfig(source="synthetic", num_samples=200), MODEL, seed=3)
    assert "cache" not in data.summary and _entries() == []


def test_the_log_says_when_the_cache_was_used(tmp_path):
    cfg = _cfg(_reviews(tmp_path / "r.tsv"))
    prepare_data(cfg, MODEL, seed=3)
    summary = prepare_data(cfg, MODEL, seed=3).summary
    out = io.StringIO()
    HeadlessPrinter(out=out)(RunStarted(config={}, device="cpu", label_names=["0", "1"], num_train=1, num_val=1,
                                        total_epochs=1, steps_per_epoch=1, num_parameters=1, data_summary=summary))
    assert "\ndata: cached (" in out.getvalue()
