"""core.training.adam.FusedAdam against torch.optim.Adam/AdamW(fused=True): the same steps to the
bit, state dicts that load into either, and no torch._dynamo import."""
import subprocess
import sys

import pytest
import torch

from core.config import TrainConfig
from core.training.adam import FusedAdam
from core.training.loop import build_optimizer


def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Embedding(30, 8), torch.nn.Linear(8, 8), torch.nn.LayerNorm(8),
                               torch.nn.Linear(8, 3))


def _groups(model):
    # Two rates and two decays, as build_optimizer makes them.
    params = list(model.parameters())
    return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.05, "lr": 2e-3},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]


def _train(model, optimizer, steps: int, seed: int = 1) -> list[float]:
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        ids = torch.randint(0, 30, (16, 5), generator=gen)
        target = torch.randint(0, 3, (16,), generator=gen)
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(ids).mean(dim=1), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("decoupled", [False, True])
def test_steps_equal_torchs_fused_adam_to_the_bit(decoupled):
    ours_model, ref_model = _model(), _model()
    ours = FusedAdam(_groups(ours_model), lr=1e-3, decoupled=decoupled)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    ref = cls(_groups(ref_model), lr=1e-3, fused=True)
    assert _train(ours_model, ours, 12) == _train(ref_model, ref, 12)
    for a, b in zip(ours_model.parameters(), ref_model.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(ours_model.parameters(), _model().parameters()))


def test_state_dicts_load_into_either_and_training_goes_on_identically():
    a_model, b_model = _model(), _model()
    ours = FusedAdam(_groups(a_model), lr=1e-3, decoupled=False)
    ref = torch.optim.Adam(_groups(b_model), lr=1e-3, fused=True)
    _train(a_model, ours, 5)
    _train(b_model, ref, 5)
    saved_ours, saved_ref = ours.state_dict(), ref.state_dict()
    assert saved_ours["param_groups"] == saved_ref["param_groups"]
    assert saved_ours["state"].keys() == saved_ref["state"].keys()
    # Swap: torch's state into ours and ours into torch's, then both go on alike.
    ours2 = FusedAdam(_groups(a_model), lr=1e-3, decoupled=False)
    ours2.load_state_dict(saved_ref)
    ref2 = torch.optim.Adam(_groups(b_model), lr=1e-3, fused=True)
    ref2.load_state_dict(saved_ours)
    assert _train(a_model, ours2, 4, seed=2) == _train(b_model, ref2, 4, seed=2)
    for a, b in zip(a_model.parameters(), b_model.parameters()):
        assert torch.equal(a, b)


def test_a_state_dict_of_another_model_is_refused():
    ours = FusedAdam(_groups(_model()), lr=1e-3, decoupled=False)
    other = torch.nn.Linear(4, 4)
    ref = torch.optim.Adam([{"params": [other.weight]}, {"params": [other.bias]}, {"params": []}], fused=True)
    with pytest.raises(ValueError, match="number of parameter groups"):
        ours.load_state_dict(ref.state_dict())
    ref = torch.optim.Adam([{"params": [other.weight]}, {"params": [other.bias]}], fused=True)
    with pytest.raises(ValueError, match="doesn't match"):
        ours.load_state_dict(ref.state_dict())


def test_zero_grad_and_parameters_without_gradients():
    model = _model()
    ours = FusedAdam(_groups(model), lr=1e-3, decoupled=False)
    frozen = model[3].weight.detach().clone()
    model[3].weight.requires_grad_(False)
    _train(model, ours, 2)
    assert torch.equal(model[3].weight, frozen)  # no gradient: not stepped, no state
    assert model[3].weight not in ours.state
    ours.zero_grad(set_to_none=False)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    ours.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_build_optimizer_uses_it_for_both_settings():
    for name in ("adam", "adamw"):
        optimizer = build_optimizer(_model(), TrainConfig(optimizer=name))
        assert isinstance(optimizer, FusedAdam) and optimizer.decoupled == (name == "adamw")
    assert not FusedAdam.supports([torch.zeros(2, dtype=torch.long)])


def test_a_training_step_does_not_import_dynamo():
    # The 1.5 s this class exists to save: checked in a fresh interpreter.
    code = ("import sys, torch\n"
            "from core.config import RunConfig\n"
            "from core.training.loop import build_optimizer\n"
            "m = torch.nn.Linear(4, 2); o = build_optimizer(m, RunConfig().train)\n"
            "m(torch.randn(3, 4)).sum().backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)\n"
            "o.step(); o.zero_grad(); o.state_dict()\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
