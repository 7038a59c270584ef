"""Tiny pretrained-style backbones built offline for the fine-tuning tests.

A BERT with random weights but a WordPiece vocabulary trained on the built-in synthetic task's
texts (so whole words are tokens and a few hundred steps learn the task), saved as a bare
``BertModel`` the way a downloaded encoder is: no classification head in the file.
"""
from __future__ import annotations

import json
from pathlib import Path

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def build_backbone(folder: Path, max_positions: int = 64) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from core.data.builtin import synthetic_data

    texts = synthetic_data(2000, 2, 0).texts
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=400, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=max_positions)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tok.get_vocab_size(), max_position_embeddings=max_positions,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **TINY)
    BertModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return Path(folder)


def edit_config(folder: Path, **changes) -> None:
    path = Path(folder) / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))
