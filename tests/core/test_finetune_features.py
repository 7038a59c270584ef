"""Fine-tuning features: accumulation equals one large batch, the loss options, freezing, layer rates, warm-up."""
import pytest
import torch
import torch.nn.functional as F

from core.config import TrainConfig, apply_overrides, preset
from core.data.batching import collate
from core.data.prepare import prepare_data
from core.training.finetune import MicroBatches, class_weights, step_normaliser, summed_loss
from core.training.loop import build_optimizer, set_seed, train_step
from core.training.model_factory import build_model
from core.training.schedule import lr_at

pytestmark = pytest.mark.usefixtures("one_thread")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data(backbone):
    config = apply_overrides(preset("nano"), [f"model.backbone={backbone}", "data.num_samples=200"])
    return config, prepare_data(config.data, config.model, 0)


def fresh(config, data):
    set_seed(0)
    model = build_model(config, data)
    return model, build_optimizer(model, config.train)


@pytest.mark.parametrize("options", [[], ["train.class_weights=balanced", "train.label_smoothing=0.1"]])
def test_accumulated_micro_batches_take_the_step_of_one_large_batch(data, options):
    config, prepared = data
    config = apply_overrides(config, options)
    split = prepared.train
    # Micro-batches of different sizes and lengths: where averaging their mean losses goes wrong.
    rows = sorted(range(8), key=lambda i: len(split.ids[i]))
    big = collate([split.ids[i] for i in rows], [split.labels[i] for i in rows])
    parts = MicroBatches([collate([split.ids[i] for i in rows[:5]], [split.labels[i] for i in rows[:5]]),
                          collate([split.ids[i] for i in rows[5:]], [split.labels[i] for i in rows[5:]])])
    weight = class_weights(config.train, split.labels, len(prepared.label_names))
    results = []
    for batch in (big, parts):
        model, optimizer = fresh(config, prepared)
        loss, logits = train_step(model, optimizer, batch, 1e-3, config.train, CPU, class_weight=weight)
        results.append((loss.item(), {n: p.detach().clone() for n, p in model.named_parameters()}))
    (big_loss, big_weights), (acc_loss, acc_weights) = results
    assert acc_loss == pytest.approx(big_loss, abs=1e-5)
    for name, value in big_weights.items():
        torch.testing.assert_close(acc_weights[name], value, atol=1e-5, rtol=0)
    # Averaging the micro-batches' own mean losses (what HF Trainer did) is a different loss.
    means = []
    for part in parts.parts:
        model, _ = fresh(config, prepared)
        model.train()
        means.append(F.cross_entropy(model(part.input_ids, part.attention_mask), part.labels, weight=weight,
                                     label_smoothing=config.train.label_smoothing).item())
    assert abs(sum(means) / 2 - big_loss) > 1e-4


@pytest.mark.parametrize("weights, smoothing", [(None, 0.0), ("balanced", 0.0), (None, 0.2), ("balanced", 0.1)])
def test_the_loss_is_torch_cross_entropy_with_the_chosen_weights_and_smoothing(weights, smoothing):
    torch.manual_seed(0)
    labels = [0, 0, 0, 0, 0, 0, 1, 1, 2]
    cfg = TrainConfig(class_weights=weights or "none", label_smoothing=smoothing)
    weight = class_weights(cfg, labels, 3)
    logits, targets = torch.randn(9, 3), torch.tensor(labels)
    batch = collate([[1]] * 9, labels)
    ours = summed_loss(logits, targets, cfg, weight) / step_normaliser([batch], weight)
    reference = F.cross_entropy(logits, targets, weight=weight, label_smoothing=smoothing)
    assert ours.item() == pytest.approx(reference.item(), abs=1e-6)
    if weights:  # balanced: n / (classes * count), rarer classes weigh more
        assert weight.tolist() == pytest.approx([9 / (3 * 6), 9 / (3 * 2), 9 / (3 * 1)])
        assert ours.item() != pytest.approx(F.cross_entropy(logits, targets, label_smoothing=smoothing).item())


def test_frozen_embeddings_and_layers_do_not_move(data):
    config, prepared = data
    config = apply_overrides(config, ["train.freeze_embeddings=true", "train.freeze_layers=1"])
    model, optimizer = fresh(config, prepared)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    batch = collate(prepared.train.ids[:16], prepared.train.labels[:16])
    for _ in range(3):
        train_step(model, optimizer, batch, 1e-2, config.train, CPU)
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert moved and not any(".embeddings." in n or ".layer.0." in n for n in moved)
    assert any(".layer.1." in n for n in moved) and any("classifier" in n for n in moved)


def test_the_head_and_each_layer_get_their_own_learning_rate(data):
    config, prepared = data
    config = apply_overrides(config, ["train.lr=1e-3", "train.head_lr=5e-3", "train.layer_lr_decay=0.5"])
    model, optimizer = fresh(config, prepared)
    batch = collate(prepared.train.ids[:4], prepared.train.labels[:4])
    train_step(model, optimizer, batch, 1e-3, config.train, CPU)
    rate = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert rate[id(named["hf.classifier.weight"])] == pytest.approx(5e-3)
    top = "hf.bert.encoder.layer.1.attention.self.query.weight"
    assert rate[id(named[top])] == pytest.approx(1e-3)  # the top layer learns at train.lr
    assert rate[id(named["hf.bert.encoder.layer.0.attention.self.query.weight"])] == pytest.approx(5e-4)
    assert rate[id(named["hf.bert.embeddings.word_embeddings.weight"])] == pytest.approx(2.5e-4)


def test_warm_up_as_a_ratio_of_all_steps():
    cfg = TrainConfig(lr=1.0, warmup_ratio=0.1, schedule="linear")
    rates = [lr_at(step, cfg, 100) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[:10] == sorted(rates[:10]) and rates[11] < rates[10] == pytest.approx(1.0)
    # warmup_steps, when given, wins over the ratio.
    assert lr_at(0, TrainConfig(lr=1.0, warmup_steps=4, warmup_ratio=0.5), 100) == pytest.approx(0.25)
