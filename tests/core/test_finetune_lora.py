"""LoRA through peft: adapters and the head train, the head is saved, the export is merged and stock."""
import sys

import pytest
import torch

from core.config import apply_overrides, preset
from core.errors import UserError
from core.events import TrainingFailed, TrainingFinished
from core.training.checkpoint import load_classifier
from core.training.trainer import Trainer

pytest.importorskip("peft")
pytestmark = pytest.mark.usefixtures("one_thread", "private_data_dir")
TEXTS = ["the acting was charming .", "the script is never clever .", "fresh !"]


def lora_config(backbone, *overrides):
    return apply_overrides(preset("nano"), [f"model.backbone={backbone}", "model.lora_rank=4", "model.lora_alpha=8",
                                            "data.num_samples=300", "train.lr=5e-3", "train.epochs=1", *overrides])


def test_lora_trains_the_adapters_and_the_head_and_saves_the_head(backbone, tmp_path):
    from safetensors.torch import load_file

    events = []
    trainer = Trainer(lora_config(backbone), events.append, out_dir=tmp_path)
    trainer.run()
    assert isinstance(events[-1], TrainingFinished), events[-1]
    model = trainer.snapshot().model
    pretrained = load_file(str(backbone / "model.safetensors"))
    weights = dict(model.named_parameters())
    # The body is the pretrained one, untouched; the adapters and the head moved.
    query = weights["hf.base_model.model.bert.encoder.layer.0.attention.self.query.base_layer.weight"]
    assert torch.equal(query, pretrained["encoder.layer.0.attention.self.query.weight"])
    assert weights["hf.base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.default.weight"].abs().sum() > 0
    head = weights["hf.base_model.model.classifier.modules_to_save.default.weight"]
    original_head = weights["hf.base_model.model.classifier.original_module.weight"]
    assert not torch.equal(head, original_head)
    # The checkpoint keeps the trained head: it predicts what the run's model predicts.
    loaded = load_classifier(tmp_path / "last")
    for ours, theirs in zip(loaded.predict(TEXTS), trainer.snapshot().predict(TEXTS)):
        assert ours["score"] == pytest.approx(theirs["score"], abs=1e-6)


def test_the_export_of_a_lora_run_is_merged_into_plain_weights(backbone, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from core.hf.export import export_checkpoint

    Trainer(lora_config(backbone), lambda e: None, out_dir=tmp_path / "run").run()
    folder = export_checkpoint(tmp_path / "run" / "last", tmp_path / "export")
    assert not (folder / "adapter_config.json").exists()
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    assert not any("lora" in name for name in model.state_dict())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        probs = model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits.softmax(-1)
    expected = load_classifier(tmp_path / "run" / "last").predict(TEXTS)
    for row, ours in zip(probs.tolist(), expected):
        assert row == pytest.approx(list(ours["scores"].values()), abs=1e-5)


def test_lora_without_peft_says_how_to_install_it(backbone, monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # import peft now raises ImportError
    events = []
    Trainer(lora_config(backbone), events.append).run()
    assert isinstance(events[-1], TrainingFailed)
    assert "needs the peft package" in events[-1].message
    assert "pip install 'transformer-workbench[lora]'" in events[-1].hint


def test_lora_targets_the_backbone_lacks_are_a_one_line_error(backbone):
    from core.pretrained.lora import add_lora
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(backbone, num_labels=2)
    with pytest.raises(UserError) as err:
        add_lora(model, lora_config(backbone, "model.lora_targets=no_such_module").model)
    assert "model.lora_targets" in err.value.hint and "\n" not in str(err.value)


def test_a_lora_run_resumes_from_its_checkpoint(backbone, tmp_path):
    Trainer(lora_config(backbone), lambda e: None, out_dir=tmp_path).run()
    events = []
    Trainer(lora_config(backbone, "train.epochs=2"), events.append, out_dir=tmp_path,
            resume_from=tmp_path / "last").run()
    assert isinstance(events[-1], TrainingFinished), events[-1]
    assert events[0].start_epoch == 1 and events[-1].epochs_completed == 2
