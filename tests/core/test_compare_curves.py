"""The compare screen's curves: debiased EMA smoothing, min/max thinning, and each run's series."""
import math

import numpy as np
import pytest

from core.sessions import SessionLog, SessionRecorder
from core.sessions.compare_curves import RunCurves, chart_runs, debiased_ema, minmax_downsample
from tests.synthetic_sessions import write_synthetic_session


def test_debiased_ema_matches_values_worked_by_hand():
    # w=0.5: last = 0.5, 1.25, 2.125; divided by 1 - 0.5**n = 0.5, 0.75, 0.875.
    assert debiased_ema([1.0, 2.0, 3.0], 0.5) == pytest.approx([1.0, 5 / 3, 17 / 7])


def test_debiased_ema_is_the_weighted_mean_of_all_points_so_far():
    # The reference: sum(w**i * y[t-i]) / sum(w**i), computed directly for each t.
    ys = np.random.default_rng(0).normal(size=200).cumsum()
    w = 0.9
    reference = [sum(w ** i * ys[t - i] for i in range(t + 1)) / sum(w ** i for i in range(t + 1)) for t in range(len(ys))]
    assert debiased_ema(ys.tolist(), w) == pytest.approx(reference, rel=1e-9)


def test_non_finite_points_pass_through_and_a_constant_series_stays_as_it_is():
    out = debiased_ema([1.0, math.nan, 2.0], 0.5)
    assert out[0] == 1.0 and math.isnan(out[1]) and out[2] == pytest.approx(1.25 / 0.75)
    assert debiased_ema([0.7] * 5, 0.9) == [0.7] * 5
    assert debiased_ema([1.0, 3.0], 0.0) == [1.0, 3.0]


def test_minmax_thinning_keeps_every_bucket_extreme_and_the_gaps():
    xs = np.arange(10_000, dtype=float)
    ys = np.sin(xs / 300)
    ys[5_000], ys[7_777] = 9.0, -9.0  # one-point spikes an every-n-th thinning would drop
    ys[123] = math.nan
    tx, ty = minmax_downsample(xs, ys, 100)
    assert len(tx) <= 2 * 100 + 1
    assert list(tx) == sorted(tx)
    assert 9.0 in ty and -9.0 in ty
    assert 123.0 in tx and math.isnan(ty[list(tx).index(123.0)])
    assert np.nanmax(ty) == 9.0 and np.nanmin(ty) == -9.0
    short = np.arange(5.0)
    assert minmax_downsample(short, short, 100)[0].tolist() == short.tolist()


def test_run_curves_hold_steps_mid_epoch_evaluations_and_epoch_ends_on_every_axis(tmp_path):
    rec = write_synthetic_session(tmp_path, "run", epochs=2, steps_per_epoch=10, eval_every=4)
    run = RunCurves.of_log(SessionLog.open(rec.folder))
    train, acc = run.series["train_loss"], run.series["val_accuracy"]
    assert train.step.tolist() == list(range(1, 21)) and train.epoch.tolist() == [s / 10 for s in range(1, 21)]
    assert train.value.tolist() == pytest.approx([1 / math.sqrt(s) for s in range(1, 21)])
    # Mid-epoch at steps 4, 8, 12, 16; epoch ends at steps 10 and 20.
    assert acc.step.tolist() == [4, 8, 10, 12, 16, 20]
    assert acc.epoch.tolist() == [0.4, 0.8, 1.0, 1.2, 1.6, 2.0]
    assert all(np.diff(acc.time) >= 0) and acc.time[0] >= 0
    assert acc.value.tolist()[2] == pytest.approx(0.5 + 0.4 * 1 / 2)


def test_a_resumed_run_continues_without_the_steps_trained_again(tmp_path):
    first = write_synthetic_session(tmp_path, "resumed", epochs=2, steps_per_epoch=4, end="cancelled")
    write_synthetic_session(tmp_path, epochs=3, steps_per_epoch=4, start_epoch=1, recorder=SessionRecorder.resume(first.folder))
    run = RunCurves.of_log(SessionLog.open(first.folder))
    assert run.series["train_loss"].step.tolist() == list(range(1, 13))
    assert run.series["val_loss"].epoch.tolist() == [1.0, 2.0, 3.0]


def test_chart_runs_give_named_series_of_points_per_run(tmp_path):
    a = RunCurves.of_log(SessionLog.open(write_synthetic_session(tmp_path, "a", epochs=3, steps_per_epoch=50).folder))
    b = RunCurves.of_log(SessionLog.open(write_synthetic_session(tmp_path, "b", epochs=1, steps_per_epoch=5).folder))
    charts = chart_runs([a, b], axis="epoch", smoothing=0.6, buckets=10)
    assert [c.name for c in charts] == ["a", "b"]
    assert set(charts[0].series) == {"val_accuracy", "val_loss", "train_loss"}
    assert len(charts[0].series["train_loss"]) <= 20  # 150 steps thinned to 10 buckets
    assert charts[1].series["train_loss"][0] == (0.2, 1.0)  # a debiased EMA starts at the first value
    assert [x for x, _ in charts[0].series["val_accuracy"]] == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        chart_runs([a], axis="minutes")



def test_points_without_a_place_on_the_axis_are_left_out():
    from core.sessions.compare_curves import Series

    nan = math.nan
    run = RunCurves("damaged", {"val_accuracy": Series(np.array([10.0, 20.0]), np.array([nan, 2.0]),
                                                       np.array([1.0, nan]), np.array([0.5, 0.6]))})
    assert chart_runs([run], axis="epoch", metrics=["val_accuracy"])[0].series["val_accuracy"] == [(2.0, 0.6)]
    assert chart_runs([run], axis="time", metrics=["val_accuracy"])[0].series["val_accuracy"] == [(1.0, 0.5)]
