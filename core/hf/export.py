"""Export a trained checkpoint as a Hugging Face model folder.

The folder holds config.json (architecture "twb-classifier", label names in id2label),
model.safetensors and the tokenizer files. After ``import core.hf.classifier`` (which this module
does) it loads with ``transformers.pipeline("text-classification", model=folder)`` and predicts
exactly what the workbench predicts: the tokenizer adds no special tokens (the workbench's
encoder adds none), and the model applies the encoder's pad-id remapping and max_seq_len
truncation itself, so a plain pipeline call needs no extra arguments.
"""
from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

from core.errors import UserError
from core.files import _umask
from core.pretrained.locate import SCRATCH_EXPORT_TYPE

EXPORT_MARKER = SCRATCH_EXPORT_TYPE
# Short probes that must tokenize identically in the workbench and in transformers.
_PROBES = ("Hello world, this is a test.", "an UNSEEN word: zyxwv!", "a")


def export_checkpoint(checkpoint_dir: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write the checkpoint's classifier to out_dir as a Hugging Face model folder; returns it.

    out_dir must be new, empty, or an earlier export holding only the files an export writes
    (it is then replaced whole, atomically); a folder with anything else in it is refused, so
    no file of the user's is ever deleted. Folders get mode 0755 and files 0644 (less the umask).
    """
    from core.training.checkpoint import load_classifier, written_folder

    out = Path(out_dir).expanduser()
    _check_target(out)
    loaded = load_classifier(checkpoint_dir)
    with written_folder(out, _write_error) as tmp:
        _write(loaded, tmp)
        _check_only_ours(out, {p.name for p in tmp.iterdir()})
        _usual_modes(tmp)
    from core.hf.pipelines.models import remember_export

    remember_export(out)
    return out


def _check_only_ours(out: Path, written: set[str]) -> None:
    """An earlier export is replaced only when it holds nothing but what an export writes."""
    if not out.is_dir():
        return
    foreign = sorted(p.name for p in out.iterdir() if p.name not in written or not p.is_file())
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise UserError(f"export folder {str(out)!r} holds files an export did not write ({shown}); nothing was replaced",
                        "move those files away or export to a new folder")


def _usual_modes(folder: Path) -> None:
    # transformers writes the weights 0600; an export is meant to be shared like any model folder.
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for path in folder.iterdir():
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def _write_error(out: Path, exc: OSError) -> UserError:
    reason = exc.strerror or str(exc)
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    kept = "; an earlier export there is kept" if out.exists() else ""
    return UserError(f"cannot write export folder {str(out)!r}: {reason}{kept}",
                     "free some disk space" if full else "choose a folder you can write to")


def _check_target(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise UserError(f"{str(out)!r} exists and is not a folder", "choose a new folder name")
    if not any(out.iterdir()):
        return
    try:
        config = json.loads((out / "config.json").read_text())
        ours = config.get("model_type") == EXPORT_MARKER or config.get("twb_exported") is True
    except (OSError, ValueError, AttributeError):
        ours = False
    if not ours:
        raise UserError(f"folder {str(out)!r} is not empty and is not an earlier export",
                        "choose a new or empty folder; an earlier export is replaced")


def _write(loaded, folder: Path) -> None:
    if hasattr(loaded.model, "plain_model"):  # a fine-tuned backbone: its own architecture, stock
        from core.hf.export_backbone import write_backbone

        return write_backbone(loaded, folder)
    import core.hf.classifier  # noqa: F401  (registers the architecture)
    from core.hf.classifier import WorkbenchClassifierConfig, WorkbenchForSequenceClassification

    encoder = loaded.encoder
    config = WorkbenchClassifierConfig.from_model_config(
        loaded.config.model, vocab_size=loaded.model.vocab_size, label_names=list(loaded.label_names),
        pad_swap=int(getattr(encoder, "_swap", 0)), unk_id=int(encoder.unk_id),
    )
    config.architectures = [WorkbenchForSequenceClassification.__name__]
    model = WorkbenchForSequenceClassification(config)
    model.workbench.load_state_dict(loaded.model.state_dict())
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer = _hf_tokenizer(encoder, config)
    tokenizer.save_pretrained(folder)
    _check_same_ids(encoder, tokenizer, config)


def _hf_tokenizer(encoder, config):
    """The encoder's tokenizer as a transformers fast tokenizer that adds no special tokens."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    with tempfile.TemporaryDirectory() as tmp:
        encoder.save(tmp)
        data = json.loads((Path(tmp) / "tokenizer.json").read_text(encoding="utf-8"))
    # The workbench encodes without special tokens, padding or truncation (the model truncates).
    data["post_processor"] = None
    data["padding"] = None
    data["truncation"] = None
    backend = Tokenizer.from_str(json.dumps(data))
    vocab = backend.get_vocab(with_added_tokens=True)
    by_id = {i: t for t, i in vocab.items()}
    swap = config.pad_swap
    # The model sees the tokenizer's pad id as 0 (see hf_classifier); padding uses that token.
    pad_token = by_id.get(swap if swap else 0)
    unk_token = by_id.get(_tokenizer_id(config.unk_id, swap))
    special = {}
    if pad_token is not None:
        special["pad_token"] = pad_token
    elif unk_token is not None:
        special["pad_token"] = unk_token  # no pad token at all: padded positions are masked anyway
    if unk_token is not None:
        special["unk_token"] = unk_token
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=config.max_seq_len,
                                   padding_side="right", truncation_side="right", **special)


def _tokenizer_id(model_id: int, swap: int) -> int:
    if not swap:
        return model_id
    return 0 if model_id == swap else (swap if model_id == 0 else model_id)


def _check_same_ids(encoder, tokenizer, config) -> None:
    for text in _PROBES:
        ours = encoder.encode(text)
        theirs = [_tokenizer_id(i, config.pad_swap) for i in tokenizer(text)["input_ids"]]
        if ours != theirs:
            raise RuntimeError(f"exported tokenizer disagrees with the workbench on {text!r}: {theirs} != {ours}")
