"""`twb predict` and `twb eval` as a user runs them: outputs, exit codes and bad input."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from test_export import make_checkpoint

pytestmark = pytest.mark.usefixtures("private_data_dir", "one_thread")

ROOT = Path(__file__).resolve().parents[2]
ROWS = [("a wonderful , moving film", "positive"), ("boring and far too long", "negative"),
        ("I love this movie , it is great", "positive"), ("terrible", "negative"),
        ("the movie was great fun", "neutral"), ("awful acting", "negative")] * 5


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("predict") / "ckpt")


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([("review", "sentiment"), *ROWS])
    return path


def expected(checkpoint, texts):
    from core.training.checkpoint import load_classifier

    return load_classifier(checkpoint).predict(texts)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("twb: error:"), err
    return err[0]


def test_predict_writes_a_label_and_score_per_row_in_input_order(checkpoint, data, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(out), "--batch-size", "4"]) == 0
    rows = list(csv.DictReader(out.open()))
    reference = expected(checkpoint, [t for t, _ in ROWS])
    assert [r["text"] for r in rows] == [t for t, _ in ROWS]
    assert [r["label"] for r in rows] == [r["label"] for r in reference]
    assert [float(r["score"]) for r in rows] == pytest.approx([r["score"] for r in reference], abs=1e-5)
    assert len({r["label"] for r in rows}) > 1
    assert f"wrote {len(ROWS)} predictions" in capsys.readouterr().err


def test_predict_without_out_prints_tsv_or_jsonl_and_needs_no_labels(checkpoint, tmp_path, capsys):
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["terrible", "tab\tinside\nand a break"]))
    assert main(["predict", str(checkpoint), "--data", str(texts)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "text\tlabel\tscore" and len(lines) == 3
    assert lines[2].split("\t")[0] == "tab inside and a break"  # one row per text, whatever it holds
    assert main(["predict", str(checkpoint), "--data", str(texts), "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == ["terrible", "tab\tinside\nand a break"]
    assert records[0]["label"] == expected(checkpoint, ["terrible"])[0]["label"]


def test_predict_refuses_bad_outputs_before_any_work_and_overwrites_nothing(checkpoint, data, tmp_path, capsys):
    before = data.read_bytes()
    assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(data)]) == 2
    assert "is the input file" in one_error_line(capsys)
    assert data.read_bytes() == before
    assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(tmp_path / "no" / "p.csv")]) == 2
    assert "does not exist" in one_error_line(capsys)
    assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(tmp_path / "p.xlsx")]) == 2
    assert ".csv, .jsonl or .tsv" in one_error_line(capsys)
    assert main(["predict", str(checkpoint), "--data", str(data), "--batch-size", "0"]) == 2
    assert "--batch-size" in one_error_line(capsys)
    assert main(["predict", str(checkpoint), "--data", str(data), "--device", "gpu"]) == 2
    assert "unknown device 'gpu'" in one_error_line(capsys)
    assert main(["predict", str(tmp_path / "nope"), "--data", str(data)]) == 2
    assert "not found" in one_error_line(capsys)
    (tmp_path / "empty.csv").write_text("")
    assert main(["predict", str(checkpoint), "--data", str(tmp_path / "empty.csv")]) == 2
    assert "empty" in one_error_line(capsys)
    assert main(["predict", str(checkpoint), "--data", str(data), "--text-column", "body"]) == 2
    assert "--text-column" in one_error_line(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_predict_into_a_read_only_folder_is_one_line(checkpoint, data, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(locked / "p.csv")]) == 2
        assert "cannot write" in one_error_line(capsys)
    finally:
        locked.chmod(0o700)


def test_ctrl_c_exits_130_and_leaves_the_old_output_whole(checkpoint, data, tmp_path, capsys, monkeypatch):
    import core.commands.predict as predict

    class Interrupting(predict.RowProgress):
        def __call__(self, done, total):
            raise KeyboardInterrupt

    monkeypatch.setattr(predict, "RowProgress", Interrupting)
    out = tmp_path / "p.csv"
    out.write_text("earlier predictions\n")
    assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(out), "--batch-size", "2"]) == 130
    assert out.read_text() == "earlier predictions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv", "reviews.csv"]  # no temp file left


def test_eval_prints_trainings_report_and_json(checkpoint, data, capsys):
    from core.events import ClassReportComputed
    from core.training.metrics import classification_report

    names = ["negative", "neutral", "positive"]
    reference = expected(checkpoint, [t for t, _ in ROWS])
    report = classification_report([names.index(label) for _, label in ROWS],
                                   [names.index(r["label"]) for r in reference], 3)
    table = ClassReportComputed(names, report.accuracy, report.precision, report.recall, report.f1,
                                report.support, report.confusion).table()
    assert main(["eval", str(checkpoint), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert f"({len(ROWS)} rows): accuracy {report.accuracy:.4f}" in out.splitlines()[0]
    assert table in out and "confusion (rows: true, columns: predicted)" in out
    assert main(["eval", str(checkpoint), "--data", str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == pytest.approx(report.accuracy) and result["confusion"] == report.confusion
    assert result["rows"] == len(ROWS) and result["label_names"] == names


def test_eval_with_labels_the_model_does_not_know_is_one_line(checkpoint, tmp_path, capsys):
    path = tmp_path / "other.tsv"
    path.write_text("sentence\tlabel\ngood\tpositive\nbad\t0\nugly\tspam\n")
    assert main(["eval", str(checkpoint), "--data", str(path)]) == 2
    line = one_error_line(capsys)
    assert "labels the model" in line and "'0', 'spam'" in line and "'positive'" not in line.split("its labels")[0]
    unlabelled = tmp_path / "texts.tsv"
    unlabelled.write_text("sentence\ngood\n")
    assert main(["eval", str(checkpoint), "--data", str(unlabelled)]) == 2
    assert "--label-column" in one_error_line(capsys)


def test_twb_predict_runs_as_a_command(checkpoint, data, tmp_path):
    out = tmp_path / "p.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "tui.cli", "predict", str(checkpoint), "--data", str(data),
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == len(ROWS)


def test_a_full_disk_while_writing_is_one_line_and_keeps_the_old_file(checkpoint, data, tmp_path, capsys,
                                                                      monkeypatch):
    import errno

    import core.files

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(core.files, "write_text_atomic", full)
    out = tmp_path / "p.csv"
    out.write_text("earlier\n")
    assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(out)]) == 2
    assert "No space left on device" in one_error_line(capsys)
    assert out.read_text() == "earlier\n"


def test_progress_redraws_one_line_on_a_terminal_and_writes_plain_lines_elsewhere():
    import io

    from core.commands.inference_common import RowProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    progress = RowProgress(screen, every_s=0)
    for done in (100, 2000, 3000):
        progress(done, 3000)
    drawn = screen.getvalue()
    assert drawn.count("\r") == 3 and drawn.endswith("\n") and drawn.count("\n") == 1
    assert "3,000/3,000 rows" in drawn
    log = io.StringIO()
    progress = RowProgress(log, every_s=0)
    progress(100, 3000)
    progress(3000, 3000)
    assert "\r" not in log.getvalue() and log.getvalue().splitlines()[0].startswith("  100/3,000 rows")
