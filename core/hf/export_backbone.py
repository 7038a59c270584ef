"""Export a fine-tuned backbone as a stock Hugging Face model folder.

What ``twb export`` writes for a backbone run is the backbone's own architecture (e.g.
``BertForSequenceClassification``) with the run's label names, LoRA adapters merged into the
weights, and the backbone's tokenizer: ``transformers.pipeline("text-classification",
model=folder)`` loads it with plain transformers, no import of the workbench and no remote code.
The workbench's encoder cuts texts at ``max_length`` tokens; the exported tokenizer states that
as ``model_max_length``, so ``pipeline(..., truncation=True)`` cuts at the same place.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

# Set in config.json so a later export may replace this folder (see export._check_target).
EXPORT_FLAG = "twb_exported"
_SPECIALS = {"cls_token": ("[CLS]", "<s>"), "sep_token": ("[SEP]", "</s>"), "mask_token": ("[MASK]", "<mask>"),
             "unk_token": ("[UNK]", "<unk>")}
_PROBES = ("Hello world, this is a test.", "an UNSEEN word: zyxwv!", "a")


def write_backbone(loaded, folder: Path) -> None:
    from core.pretrained.lora import merged

    model = merged(loaded.model.hf)
    id2label = dict(enumerate(loaded.label_names))
    model.config.id2label, model.config.label2id = id2label, {v: k for k, v in id2label.items()}
    setattr(model.config, EXPORT_FLAG, True)
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer = _hf_tokenizer(loaded.encoder)
    tokenizer.save_pretrained(folder)
    _check_same_ids(loaded.encoder, tokenizer)


def _hf_tokenizer(encoder):
    """The backbone's tokenizer as saved in the checkpoint, without the encoder's fixed truncation."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    with tempfile.TemporaryDirectory() as tmp:
        encoder.save(tmp)
        data = json.loads((Path(tmp) / "tokenizer.json").read_text(encoding="utf-8"))
    data["padding"] = None
    data["truncation"] = None  # transformers decides per call (truncation=True cuts at model_max_length)
    backend = Tokenizer.from_str(json.dumps(data))
    vocab = backend.get_vocab(with_added_tokens=True)
    by_id = {i: t for t, i in vocab.items()}
    special = {name: next(t for t in candidates if t in vocab)
               for name, candidates in _SPECIALS.items() if any(t in vocab for t in candidates)}
    pad = by_id.get(encoder._swap or 0)
    if pad is not None:
        special["pad_token"] = pad
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=int(encoder.meta.get("max_length") or 512),
                                   padding_side="right", truncation_side="right", **special)


def _check_same_ids(encoder, tokenizer) -> None:
    swap = encoder._swap
    for text in _PROBES:
        ours = encoder.encode(text)
        theirs = [i if not swap else (0 if i == swap else (swap if i == 0 else i))
                  for i in tokenizer(text, truncation=True)["input_ids"]]
        if ours != theirs:
            raise RuntimeError(f"exported tokenizer disagrees with the workbench on {text!r}: {theirs} != {ours}")
