"""TensorBoard event files from `twb sessions export-tb` and `twb train --tensorboard`, read back
with TensorBoard's own reader: the curves and the HParams tab a user opens."""
import builtins
import sys

import pytest

from core import config as cfg

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

from core import cli as core_cli  # noqa: E402
from tests.synthetic_sessions import write_synthetic_session  # noqa: E402


def twb(argv, capsys):
    code = core_cli.run_command(core_cli.build_parser().parse_args(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def read_run(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def hparams_of(acc):
    """The settings the HParams tab shows for this run folder (its session_start_info)."""
    content = acc.PluginTagToContent("hparams")
    data = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    return {k: (v.number_value if v.HasField("number_value") else v.string_value)
            for k, v in data.session_start_info.hparams.items()}


def test_export_tb_writes_curves_and_hparams_into_one_run_folder(tmp_path, capsys):
    sessions, logdir = tmp_path / "sessions", tmp_path / "tb"
    rec = write_synthetic_session(sessions, "base", epochs=2, steps_per_epoch=5, eval_every=2)
    code, out, _ = twb(["sessions", "export-tb", "base", "--dir", str(sessions), "--logdir", str(logdir)], capsys)
    assert code == 0
    run = logdir / rec.folder.name
    assert f"wrote {run}" in out
    assert [p for p in run.iterdir() if p.is_dir()] == []  # hparams did not go to a subfolder of its own
    acc = read_run(run)
    loss = scalars(acc, "train/loss")
    assert [s for s, _ in loss] == list(range(1, 11)) and loss[3][1] == pytest.approx(1 / 2)
    assert [v for _, v in scalars(acc, "train/lr")] == pytest.approx([1e-3] * 10)
    # Mid-epoch evaluations at steps 2, 4, 6, 8 and the epoch ends at 5 and 10.
    val = scalars(acc, "val/accuracy")
    assert sorted(s for s, _ in val) == [2, 4, 5, 6, 8, 10]
    assert dict(val)[10] == pytest.approx(0.9) and dict(val)[4] == pytest.approx(0.5 + 0.45 * 4 / 10)
    assert dict(scalars(acc, "val/loss"))[5] == pytest.approx(1.1)
    settings = hparams_of(acc)
    assert settings["train.lr"] == pytest.approx(cfg.preset("nano").train.lr) and "model.emb_dim" in settings
    assert scalars(acc, "hparam/best_val_accuracy")[0][1] == pytest.approx(0.9)


def test_export_tb_of_several_sessions_and_again_replaces_the_earlier_export(tmp_path, capsys):
    sessions, logdir = tmp_path / "sessions", tmp_path / "tb"
    a = write_synthetic_session(sessions, "a", epochs=1, steps_per_epoch=3).folder
    b = write_synthetic_session(sessions, "b", epochs=2, steps_per_epoch=3).folder
    argv = ["sessions", "export-tb", "a", "b", "--dir", str(sessions), "--logdir", str(logdir)]
    assert twb(argv, capsys)[0] == 0
    assert twb(argv, capsys)[0] == 0
    assert sorted(p.name for p in logdir.iterdir()) == sorted([a.name, b.name])  # no partial folders left
    assert len(scalars(read_run(logdir / b.name), "train/loss")) == 6  # once, not twice


def test_export_tb_of_a_crashed_session_still_has_its_hparams(tmp_path, capsys):
    sessions = tmp_path / "sessions"
    rec = write_synthetic_session(sessions, "killed", epochs=1, steps_per_epoch=4, end="none", close=False)
    rec.writer.close()
    assert twb(["sessions", "export-tb", "killed", "--dir", str(sessions), "--logdir", str(tmp_path / "tb")],
               capsys)[0] == 0
    acc = read_run(tmp_path / "tb" / rec.folder.name)
    assert "train.lr" in hparams_of(acc) and len(scalars(acc, "train/loss")) == 4


def test_export_tb_into_an_unwritable_place_is_one_line(tmp_path, capsys):
    write_synthetic_session(tmp_path / "sessions", "a", epochs=1, steps_per_epoch=2)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = twb(["sessions", "export-tb", "a", "--dir", str(tmp_path / "sessions"),
                        "--logdir", str(blocker / "tb")], capsys)
    assert code == 2 and err.startswith("twb: error: cannot write TensorBoard files") and err.count("\n") == 1


def test_without_the_tensorboard_package_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    write_synthetic_session(tmp_path, "a", epochs=1, steps_per_epoch=2)
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard") or name.startswith("tensorboard"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m.startswith("torch.utils.tensorboard")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    code, _, err = twb(["sessions", "export-tb", "a", "--dir", str(tmp_path), "--logdir", str(tmp_path / "tb")],
                       capsys)
    assert code == 2 and err.count("\n") == 1
    assert "pip install 'transformer-workbench[tensorboard]'" in err


def test_train_with_tensorboard_writes_the_run_live(tmp_path, capsys):
    logdir = tmp_path / "tb"
    code, _, err = twb(["train", "--preset", "nano", "--quiet", "--set", "train.epochs=2",
                        "--set", "train.log_every_steps=1", "--out", str(tmp_path / "run"),
                        "--session", "live", "--sessions-dir", str(tmp_path / "sessions"),
                        "--tensorboard", str(logdir)], capsys)
    assert code == 0, err
    (run,) = list(logdir.iterdir())
    assert run.name.endswith("live") and f"TensorBoard files to {run}" in err
    acc = read_run(run)
    assert len(scalars(acc, "train/loss")) >= 2
    epoch_ends = scalars(acc, "train/epoch_loss")
    assert len(epoch_ends) == 2
    assert {s for s, _ in epoch_ends} <= {s for s, _ in scalars(acc, "val/accuracy")}
    assert hparams_of(acc)["train.epochs"] == 2
