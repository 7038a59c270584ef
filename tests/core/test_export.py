"""Export round trip: the exported folder predicts through transformers.pipeline exactly what
the workbench predicts from the checkpoint."""
import dataclasses
import errno
import json
import os
import stat

import pytest

from core.errors import UserError

pytestmark = pytest.mark.usefixtures("private_data_dir")

TEXTS = [
    "a wonderful , moving film",
    "boring and far too long",
    "I love this movie , it is great",
    "terrible",
    "an UNSEEN word : zyxwv !",
    " ".join(["long"] * 40),  # longer than max_seq_len: both sides truncate the same way
]


def make_checkpoint(folder, tokenizer="wordpiece", **model_overrides):
    """A checkpoint written the way training writes it, with weights that give varied predictions."""
    import torch

    from core.training.checkpoint import save_checkpoint
    from core.config import RunConfig, preset
    from core.model import TransformerClassifier
    from core.data.tokenization import build_encoder

    base = preset("nano")
    data = dataclasses.replace(base.data, tokenizer=tokenizer)
    # Small fixed sizes (not the preset's tuning), and the first seed whose untrained model does
    # not give every text the same label (what it gives depends on the tokenizer's ids too).
    model_cfg = dataclasses.replace(base.model, **{"emb_dim": 16, "n_heads": 2, "ff_dim": 32, "max_seq_len": 16,
                                                   **model_overrides})
    encoder = build_encoder(data, model_cfg, [t for t in TEXTS] * 3 + ["the movie was great fun", "awful acting"])
    model_cfg = dataclasses.replace(model_cfg, vocab_size=encoder.vocab_size)
    ids = [torch.tensor([encoder.encode(t)[:16]]) for t in TEXTS]
    for seed in range(1, 50):
        torch.manual_seed(seed)
        model = TransformerClassifier(model_cfg, 3).eval()
        with torch.no_grad():
            model.head.weight.mul_(40)  # untrained logits are nearly equal; spread them out
            if len({int(model(x).argmax()) for x in ids}) > 1:
                break
    config = RunConfig(model=model_cfg, data=data, train=base.train)
    save_checkpoint(folder, model, encoder, config, ["negative", "neutral", "positive"], {"epoch": 0, "step": 0})
    return folder


def assert_same_predictions(checkpoint, exported):
    from transformers import pipeline

    from core.training.checkpoint import load_classifier

    ours = load_classifier(checkpoint).predict(TEXTS)
    pipe = pipeline("text-classification", model=str(exported), device="cpu")
    theirs = pipe(TEXTS, top_k=None)
    for mine, hf in zip(ours, theirs):
        scores = {item["label"]: item["score"] for item in hf}
        assert hf[0]["label"] == mine["label"]
        for label, p in mine["scores"].items():
            assert scores[label] == pytest.approx(p, abs=1e-5)
    assert len({m["label"] for m in ours}) > 1  # the comparison covers more than one label


@pytest.mark.parametrize("overrides", [
    {},
    {"pooling": "cls", "positional": "sinusoidal"},
])
def test_exported_folder_predicts_like_the_workbench(tmp_path, overrides):
    from core.hf.export import export_checkpoint

    checkpoint = make_checkpoint(tmp_path / "ckpt", **overrides)
    out = export_checkpoint(checkpoint, tmp_path / "exported")
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    assert config["model_type"] == "twb-classifier"
    assert_same_predictions(checkpoint, out)


def test_export_with_a_pretrained_tokenizer_whose_pad_id_is_not_zero(tmp_path, tiny):
    from core.hf.export import export_checkpoint

    # The tiny GPT-2 tokenizer has no pad token: the workbench gives padding a fresh id.
    checkpoint = make_checkpoint(tmp_path / "ckpt", tokenizer=str(tiny["gpt2"]))
    out = export_checkpoint(checkpoint, tmp_path / "exported")
    assert_same_predictions(checkpoint, out)


def test_exported_model_runs_in_the_console_and_is_listed(tmp_path):
    from core.hf.export import export_checkpoint
    from core.hf.pipelines import list_local_models, run_task

    out = export_checkpoint(make_checkpoint(tmp_path / "ckpt"), tmp_path / "my-classifier")
    result = run_task("text-classification", str(out), "a wonderful , moving film")
    assert result[0]["label"] in {"negative", "neutral", "positive"}
    listed = [m for m in list_local_models() if m.source == "exported"]
    assert [(m.name, m.path) for m in listed] == [("my-classifier", str(out.resolve()))]


def test_export_replaces_an_earlier_export_but_never_another_folder(tmp_path):
    from core.hf.export import export_checkpoint

    checkpoint = make_checkpoint(tmp_path / "ckpt")
    out = export_checkpoint(checkpoint, tmp_path / "exported")
    export_checkpoint(checkpoint, out)  # again: replaced
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    with pytest.raises(UserError, match="not empty"):
        export_checkpoint(checkpoint, other)
    assert (other / "todo.txt").read_text() == "keep me"


def test_export_of_a_missing_checkpoint_is_a_user_error(tmp_path):
    from core.hf.export import export_checkpoint

    with pytest.raises(UserError, match="not found"):
        export_checkpoint(tmp_path / "nope", tmp_path / "out")


def test_re_export_refuses_a_folder_with_files_the_user_added_and_keeps_them(tmp_path, capsys):
    from core.cli import main

    checkpoint = make_checkpoint(tmp_path / "ckpt")
    out = tmp_path / "exported"
    assert main(["export", str(checkpoint), str(out)]) == 0
    (out / "README.md").write_text("my notes")
    capsys.readouterr()
    assert main(["export", str(checkpoint), str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "README.md" in err[0] and err[0].startswith("twb: error:")
    assert (out / "README.md").read_text() == "my notes" and (out / "config.json").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folder left


def test_export_folder_and_files_get_the_usual_modes(tmp_path):
    from core.hf.export import export_checkpoint

    mask = os.umask(0o022)
    try:
        out = export_checkpoint(make_checkpoint(tmp_path / "ckpt"), tmp_path / "exported")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {p.name: 0o644 for p in out.iterdir()}


def test_a_read_only_or_full_export_target_is_one_line(tmp_path, monkeypatch, capsys):
    from core.cli import main
    import core.hf.export as export_module

    checkpoint = make_checkpoint(tmp_path / "ckpt")
    assert main(["export", str(checkpoint), "/sys/twb-export"]) == 2  # not writable, even for root
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/sys/twb-export" in err[0]

    out = tmp_path / "exported"
    assert main(["export", str(checkpoint), str(out)]) == 0
    before = (out / "model.safetensors").read_bytes()

    def disk_full(loaded, folder):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export_module, "_write", disk_full)
    capsys.readouterr()
    assert main(["export", str(checkpoint), str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "Traceback" not in "\n".join(err)
    assert (out / "model.safetensors").read_bytes() == before  # the earlier export is whole
