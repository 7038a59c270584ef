"""Text encoders: text -> token ids, with pad id 0.

Three kinds, one interface (``TextEncoder``):

- ``wordpiece``: a WordPiece vocabulary trained on the training split with ``tokenizers``;
- ``word``: whole words, the ``vocab_size - 2`` most frequent ones, plus [PAD]=0 and [UNK]=1;
- ``pretrained``: the tokenizer of a local Hugging Face model folder (offline), without its
  special tokens; its vocabulary size is the tokenizer's, not ``model.vocab_size``.

All three are a ``tokenizers.Tokenizer`` underneath, so encoding a whole split is one Rust
``encode_batch`` call and saving is one ``tokenizer.json`` plus a small ``encoder.json``.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from core.config import DataConfig, ModelConfig
from core.files import write_text_atomic
from core.errors import UserError

PAD, UNK = "[PAD]", "[UNK]"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
_BUILTIN_KINDS = ("wordpiece", "word")


class TextEncoder:
    """Encodes text without padding, truncation or special tokens; ``pad_id`` is always 0.

    A pretrained tokenizer whose own pad id is not 0 (or that has none) is remapped: its pad
    id and id 0 swap places, so the model and the batcher can rely on 0 meaning padding.
    """

    def __init__(self, tokenizer: Any, kind: str, meta: dict[str, Any] | None = None):
        self._tok = tokenizer
        self._tok.no_padding()
        self._tok.no_truncation()
        self.kind = kind
        self.meta = dict(meta or {})
        # A backbone's tokenizer adds its special tokens ([CLS] ... [SEP]) as in pretraining,
        # and truncates inside them, so a long text still ends with [SEP].
        self._special = bool(self.meta.get("special_tokens", False))
        if self._special and self.meta.get("max_length"):
            self._tok.enable_truncation(int(self.meta["max_length"]))
        # id in the wrapped tokenizer <-> id the model sees; only pretrained ones can differ.
        self._swap: int = int(self.meta.get("pad_swap", 0))  # original id that now reads as 0
        vocab = tokenizer.get_vocab(with_added_tokens=True)
        base_size = max(vocab.values()) + 1 if vocab else 0
        self.vocab_size: int = int(self.meta.get("vocab_size", base_size))
        self.pad_id: int = 0
        self.unk_id: int = int(self.meta.get("unk_id", self._to_model(tokenizer.token_to_id(UNK) or 1)))

    # --- id mapping -------------------------------------------------------------------------

    def _to_model(self, i: int) -> int:
        if self._swap == 0:
            return i
        return 0 if i == self._swap else (self._swap if i == 0 else i)

    # The swap is its own inverse.
    _to_tokenizer = _to_model

    # --- the interface ----------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        encodings = self._tok.encode_batch_fast(list(texts), add_special_tokens=self._special)
        if self._swap == 0:
            return [e.ids for e in encodings]
        swap = self._swap
        return [[0 if i == swap else (swap if i == 0 else i) for i in e.ids] for e in encodings]

    def id_to_token(self, i: int) -> str:
        if i == 0:
            return PAD
        token = self._tok.id_to_token(self._to_tokenizer(int(i)))
        return token if token is not None else UNK

    def tokens(self, text: str) -> list[str]:
        """The token strings ``encode`` would give, for display."""
        return [self.id_to_token(i) for i in self.encode(text)]

    def state(self) -> dict[str, Any]:
        """What rebuilds this encoder (``encoder_from_state``): the tokenizer's JSON and the meta
        ``save`` writes; plain data, so it can travel to another process."""
        meta = {**self.meta, "kind": self.kind, "vocab_size": self.vocab_size, "pad_id": 0,
                "unk_id": self.unk_id, "pad_swap": self._swap}
        return {"tokenizer": self._tok.to_str(), "meta": meta}

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = self.state()
        write_text_atomic(folder / TOKENIZER_FILE, state["tokenizer"])
        write_text_atomic(folder / META_FILE, json.dumps(state["meta"], indent=2) + "\n")

    def __repr__(self) -> str:
        return f"TextEncoder(kind={self.kind!r}, vocab_size={self.vocab_size})"


def load_encoder(folder: str | Path) -> TextEncoder:
    """The encoder a ``TextEncoder.save(folder)`` wrote."""
    from tokenizers import Tokenizer

    folder = Path(folder)
    meta_path, tok_path = folder / META_FILE, folder / TOKENIZER_FILE
    if not meta_path.is_file() or not tok_path.is_file():
        raise UserError(f"no saved tokenizer in {folder}",
                        f"expected {TOKENIZER_FILE} and {META_FILE}; point at a checkpoint folder")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(tok_path))
    except Exception as exc:  # OSError, bad JSON, or the plain Exception tokenizers raises
        raise UserError(f"cannot read the tokenizer in {folder}: {exc}",
                        "the checkpoint is damaged; save it again") from None
    return TextEncoder(tokenizer, meta.get("kind", "wordpiece"), meta)


def encoder_from_state(state: dict[str, Any]) -> TextEncoder:
    """The encoder whose ``state()`` this is."""
    from tokenizers import Tokenizer

    meta = state["meta"]
    return TextEncoder(Tokenizer.from_str(state["tokenizer"]), meta.get("kind", "wordpiece"), meta)


# --- building -----------------------------------------------------------------------------

def build_encoder(data_cfg: DataConfig, model_cfg: ModelConfig, train_texts: Iterable[str]) -> TextEncoder:
    """The encoder ``data_cfg.tokenizer`` names: trained on ``train_texts`` or loaded from a folder."""
    from core.pretrained.locate import is_scratch

    if not is_scratch(model_cfg.backbone):
        return backbone_encoder(model_cfg)
    name = data_cfg.tokenizer.strip()
    if name == "wordpiece":
        return _train_wordpiece(list(train_texts), model_cfg.vocab_size, data_cfg.lowercase)
    if name == "word":
        return _train_word(list(train_texts), model_cfg.vocab_size, data_cfg.lowercase)
    return load_pretrained(name)


def _normalizer(lowercase: bool) -> Any:
    from tokenizers import normalizers

    # BERT's cleanup (control chars, CJK spacing); accents are kept so "café" stays readable.
    return normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                      strip_accents=False, lowercase=lowercase)


def _train_wordpiece(texts: list[str], vocab_size: int, lowercase: bool) -> TextEncoder:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    def train(pieces: list[str], alphabet: list[str] | None = None) -> Any:
        tok = Tokenizer(models.WordPiece(unk_token=UNK))
        tok.normalizer = _normalizer(lowercase)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        options: dict[str, Any] = {} if alphabet is None else {"limit_alphabet": len(alphabet),
                                                               "initial_alphabet": alphabet}
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=[PAD, UNK, *pieces],
                                            show_progress=False, **options)
        tok.train_from_iterator(texts, trainer, length=len(texts))
        return _unspecial(tok, set(pieces))

    # The trainer numbers each "##c" piece when it first meets it while walking a hash map, and
    # breaks ties between merges by those numbers (huggingface/tokenizers#1794): two trainings
    # on the same texts gave different vocabularies (6 of 6 on SST-2). Which characters and
    # pieces exist does not depend on that order, so a first training finds them, and the
    # second, given the pieces up front in sorted order, comes out the same every time.
    seen = train([]).get_vocab()
    chars = sorted(t for t in seen if len(t) == 1)
    continuing = {t[2:] for t in seen if len(t) == 3 and t.startswith("##")}

    def pieces(alphabet: list[str]) -> list[str]:
        return [f"##{c}" for c in alphabet if c in continuing]

    tok = train(pieces(chars))
    # The trainer keeps every character it saw (and its "##" form) even past vocab_size; ids
    # beyond the embedding table would crash the model, so keep only the commonest characters
    # (ties by character, so the same ones every time).
    limit = max(1, (vocab_size - 2) // 2)
    if tok.get_vocab_size() > vocab_size:
        counts = Counter("".join(texts).lower() if lowercase else "".join(texts))
        by_use = sorted(chars, key=lambda c: (-counts[c], c))
    while tok.get_vocab_size() > vocab_size and limit >= 1:
        kept = sorted(by_use[:limit])
        tok = train(pieces(kept), kept)
        limit //= 2
    if tok.get_vocab_size() > vocab_size:
        raise UserError(f"model.vocab_size {vocab_size} is too small for a WordPiece vocabulary",
                        "raise model.vocab_size (e.g. 1000) or use data.tokenizer=word")
    return TextEncoder(tok, "wordpiece", {"lowercase": lowercase, "unk_id": 1})


def _unspecial(tok: Any, pieces: set[str]) -> Any:
    """``tok`` with ``pieces`` as ordinary vocabulary entries, not special tokens (which would
    be matched in raw text: a literal "##a" would become that piece)."""
    from tokenizers import Tokenizer

    saved = json.loads(tok.to_str())
    saved["added_tokens"] = [t for t in saved["added_tokens"] if t["content"] not in pieces]
    return Tokenizer.from_str(json.dumps(saved))


def _train_word(texts: list[str], vocab_size: int, lowercase: bool) -> TextEncoder:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token=UNK))
    tok.normalizer = _normalizer(lowercase)
    # Words and runs of punctuation, as BERT splits them.
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # vocab_size counts the two special tokens, so the vocabulary is the top vocab_size - 2 words.
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=[PAD, UNK], show_progress=False)
    tok.train_from_iterator(texts, trainer, length=len(texts))
    return TextEncoder(tok, "word", {"lowercase": lowercase, "unk_id": 1})


# --- pretrained ---------------------------------------------------------------------------

_PAD_CANDIDATES = ("[PAD]", "<pad>", "<|pad|>", "<PAD>")
_UNK_CANDIDATES = ("[UNK]", "<unk>", "<|unk|>", "<UNK>", "<|endoftext|>", "</s>", "[SEP]")


def _special_tokens_from_config(folder: Path) -> dict[str, str]:
    """pad/unk token strings declared in the folder's tokenizer_config/special_tokens_map."""
    found: dict[str, str] = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key in ("pad_token", "unk_token"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str) and key not in found:
                found[key] = value
    return found


def _load_backend_tokenizer(folder: Path) -> Any:
    from tokenizers import Tokenizer

    if (folder / TOKENIZER_FILE).is_file():
        try:
            return Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises a plain Exception on a bad file
            raise UserError(f"cannot read {folder / TOKENIZER_FILE}: {exc}",
                            "the file is damaged or from a newer tokenizers; re-save the tokenizer") from None
    # No tokenizer.json (e.g. only vocab.txt or a sentencepiece model): let transformers
    # convert it to a fast tokenizer, offline.
    try:
        from transformers import AutoTokenizer

        hf = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:
        raise UserError(f"cannot load a tokenizer from {folder}: {exc}",
                        "data.tokenizer must be 'wordpiece', 'word' or a folder with tokenizer.json") from None
    backend = getattr(hf, "backend_tokenizer", None)
    if backend is None:
        raise UserError(f"the tokenizer in {folder} has no fast (tokenizers) version",
                        "save it with a tokenizer.json, or use data.tokenizer=wordpiece")
    return backend


def backbone_encoder(model_cfg: ModelConfig) -> TextEncoder:
    """The backbone's own tokenizer, with its special tokens, truncating at model.max_seq_len or
    the backbone's position limit, whichever is lower (``meta["capped_from"]`` says when it cut)."""
    from core.pretrained.locate import locate_backbone

    source = locate_backbone(model_cfg.backbone, model_cfg.trust_remote_code)
    length = min(model_cfg.max_seq_len, source.max_positions)
    encoder = load_pretrained(str(source.folder), special_tokens=True, max_length=length)
    encoder.meta["backbone"] = model_cfg.backbone
    if length < model_cfg.max_seq_len:
        encoder.meta["capped_from"] = model_cfg.max_seq_len
    return encoder


def load_pretrained(path: str, special_tokens: bool = False, max_length: int | None = None) -> TextEncoder:
    """The tokenizer of a local Hugging Face model folder, pad remapped to id 0; with
    ``special_tokens``, as the model was pretrained ([CLS] ... [SEP]), cut at ``max_length``."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise UserError(f"data.tokenizer {path!r} is neither 'wordpiece', 'word' nor a folder",
                        "use 'wordpiece', 'word', or the path of a local Hugging Face model folder")
    tok = _load_backend_tokenizer(folder)
    vocab = tok.get_vocab(with_added_tokens=True)
    size = max(vocab.values()) + 1 if vocab else 0
    declared = _special_tokens_from_config(folder)

    def find(candidates: tuple[str, ...], declared_name: str | None) -> int | None:
        for token in ((declared_name,) if declared_name else ()) + candidates:
            i = tok.token_to_id(token)
            if i is not None:
                return i
        return None

    pad = find(_PAD_CANDIDATES, declared.get("pad_token"))
    if pad is None:  # e.g. GPT-2: no pad token; give padding a fresh id past the vocabulary
        pad, size = size, size + 1
    unk = find(_UNK_CANDIDATES, declared.get("unk_token"))
    meta: dict[str, Any] = {"source": str(folder.resolve()), "pad_swap": pad, "vocab_size": size,
                            "lowercase": None}
    if special_tokens:
        meta.update(special_tokens=True, max_length=max_length)
    encoder = TextEncoder(tok, "pretrained", meta)
    # A tokenizer without an unknown token (byte-level BPE) still needs one id for empty texts.
    fallback = 1 if size > 1 else 0
    encoder.unk_id = encoder._to_model(unk) if unk is not None else fallback
    encoder.meta["unk_id"] = encoder.unk_id
    return encoder
