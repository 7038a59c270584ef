"""`twb errors` and the core list behind it: exactly the misclassified rows, worst first."""
import json

import pytest
import torch

from core import cli as core_cli
from core.explain.errors import error_report, misclassified
from core.training.checkpoint import load_classifier
from explain_fixtures import not_texts, train_not_model, write_tsv

pytestmark = pytest.mark.usefixtures("one_thread")

FLIPPED = {3, 10, 17, 40}  # rows whose label is made wrong: the model, right on the task, "errs" there


def twb(argv, capsys):
    code = core_cli.run_command(core_cli.build_parser().parse_args(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("errors")
    out = train_not_model(folder)
    rows = not_texts(60, seed=5)
    flip = {"negative": "positive", "positive": "negative"}
    rows = [(t, flip[y] if i in FLIPPED else y) for i, (t, y) in enumerate(rows)]
    return out / "best", write_tsv(folder / "check.tsv", rows), rows


def test_the_list_is_exactly_the_misclassified_rows_by_loss(run):
    checkpoint, _, rows = run
    loaded = load_classifier(checkpoint)
    texts, labels = [t for t, _ in rows], [y for _, y in rows]
    wrong = misclassified(loaded.predict, texts, labels)
    assert {w.row for w in wrong} == FLIPPED
    predicted = loaded.predict(texts)
    for w in wrong:
        assert w.predicted == predicted[w.row]["label"] != w.true == labels[w.row]
        assert w.confidence == pytest.approx(predicted[w.row]["score"])
    assert [w.loss for w in wrong] == sorted((w.loss for w in wrong), reverse=True)
    cell = misclassified(loaded.predict, texts, labels, cell=("positive", "negative"))
    assert {w.row for w in cell} == {i for i in FLIPPED if labels[i] == "positive"}
    assert misclassified(loaded.predict, texts, labels, top=2) == wrong[:2]
    report = error_report(loaded.predict, texts, labels)
    names = report.label_names
    for t, true in enumerate(names):
        for p, pred in enumerate(names):
            n = sum(1 for y, r in zip(labels, predicted) if (y, r["label"]) == (true, pred))
            assert report.confusion[t][p] == n


def test_cli_json_and_table(run, capsys):
    checkpoint, data, rows = run
    code, out, _ = twb(["errors", str(checkpoint), "--data", str(data), "--json"], capsys)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["line"] for r in records} == {i + 2 for i in FLIPPED}  # the header is line 1
    assert all(r["text"] == rows[r["row"]][0] for r in records)

    code, out, _ = twb(["errors", str(checkpoint), "--data", str(data), "--top", "1", "--true", "negative"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"{len(FLIPPED)} of 60 rows misclassified (accuracy 0.933)")
    negatives = [r for r in records if r["true"] == "negative"]
    assert f"showing 1 of {len(negatives)} (true negative)" in lines[0]
    assert lines[2].split()[1:3] == ["negative", "positive"] and rows[negatives[0]["row"]][0] in lines[2]


def test_a_negative_top_is_refused_by_the_parser(run, capsys):
    checkpoint, data, _ = run
    with pytest.raises(SystemExit) as exit_info:
        twb(["errors", str(checkpoint), "--data", str(data), "--top", "-1"], capsys)
    assert exit_info.value.code == 2 and "must be 0 (every row) or more" in capsys.readouterr().err


def test_an_unknown_label_filter_names_the_classes(run, capsys):
    checkpoint, data, _ = run
    code, _, err = twb(["errors", str(checkpoint), "--data", str(data), "--predicted", "maybe"], capsys)
    assert code == 2 and "--predicted 'maybe' is not one of the model's classes" in err and "negative, positive" in err


def test_bad_files(run, tmp_path, capsys):
    checkpoint, _, _ = run
    other = write_tsv(tmp_path / "other.tsv", [("a text", "spam"), ("b text", "ham")])
    code, _, err = twb(["errors", str(checkpoint), "--data", str(other)], capsys)
    assert code == 2 and "line 2: label 'spam' is not one of the model's classes" in err
    (tmp_path / "empty.tsv").write_text("", encoding="utf-8")
    code, _, err = twb(["errors", str(checkpoint), "--data", str(tmp_path / "empty.tsv")], capsys)
    assert code == 2 and "empty" in err
    code, _, err = twb(["errors", str(tmp_path / "nowhere"), "--data", str(other)], capsys)
    assert code == 2 and "not found" in err
