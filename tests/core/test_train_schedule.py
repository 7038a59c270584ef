import pytest

from core.config import TrainConfig
from core.training.schedule import lr_at, lr_curve


def test_warmup_rises_linearly_to_the_base_rate():
    cfg = TrainConfig(lr=1e-3, warmup_steps=10, schedule="constant")
    assert lr_at(0, cfg, 100) == pytest.approx(1e-4)
    assert lr_at(4, cfg, 100) == pytest.approx(5e-4)
    assert lr_at(9, cfg, 100) == pytest.approx(1e-3)
    assert lr_at(50, cfg, 100) == pytest.approx(1e-3)


def test_linear_decays_to_zero_at_the_last_step():
    cfg = TrainConfig(lr=1e-3, warmup_steps=10, schedule="linear")
    assert lr_at(10, cfg, 110) == pytest.approx(1e-3)
    assert lr_at(60, cfg, 110) == pytest.approx(5e-4)
    assert lr_at(110, cfg, 110) == pytest.approx(0.0)


def test_cosine_is_half_way_in_the_middle_and_never_rises_after_warmup():
    cfg = TrainConfig(lr=2e-3, warmup_steps=0, schedule="cosine")
    assert lr_at(0, cfg, 100) == pytest.approx(2e-3)
    assert lr_at(50, cfg, 100) == pytest.approx(1e-3)
    curve = lr_curve(cfg, 100)
    assert all(a >= b for a, b in zip(curve, curve[1:]))
    assert curve[-1] < 1e-5
