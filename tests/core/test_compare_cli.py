"""`twb compare`: the table, JSON and CSV a user reads to pick the better run."""
import csv
import io
import json

import pytest

from core import cli as core_cli
from core import config as cfg
from tests.synthetic_sessions import write_synthetic_session


def twb(argv, capsys):
    code = core_cli.run_command(core_cli.build_parser().parse_args(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def runs(tmp_path):
    nano = cfg.preset("nano")
    # Mid-epoch evaluations every 4 steps: the best accuracy (0.92) is at step 28, inside epoch 3.
    write_synthetic_session(tmp_path, "base", epochs=3, eval_every=4, config=nano)
    write_synthetic_session(tmp_path, "fast", epochs=2, config=cfg.with_field(nano, "train.lr", 2 * nano.train.lr))
    crashed = write_synthetic_session(tmp_path, "killed", epochs=1, end="none", close=False, config=nano)
    crashed.writer.close()
    return tmp_path


def test_json_has_best_accuracy_at_its_step_final_metrics_and_only_differing_settings(runs, capsys):
    code, out, _ = twb(["compare", "base", "fast", "killed", "--dir", str(runs), "--json"], capsys)
    assert code == 0
    by_name = {r["name"]: r for r in json.loads(out)}
    base = by_name["base"]
    assert base["status"] == "finished"
    assert base["best_val_accuracy"] == pytest.approx(0.5 + 0.45 * 28 / 30) and base["best_step"] == 28
    assert base["train_loss"] == pytest.approx(1 / 3) and base["val_accuracy"] == pytest.approx(0.9)
    assert base["samples_per_s"] == pytest.approx(500.0) and base["duration_s"] is not None
    assert by_name["fast"]["best_step"] == 20  # epoch 2's end: the last step before it
    assert {k for r in by_name.values() for k in r["hparams"]} == {"train.lr"}
    assert by_name["fast"]["hparams"]["train.lr"] == pytest.approx(2 * cfg.preset("nano").train.lr)
    assert by_name["killed"]["status"] == "crashed" and by_name["killed"]["notes"]


def test_plain_table_fits_80_columns_and_wraps_settings_into_a_second_block(runs, capsys):
    long_path = "/data/experiments/2026/sentiment/reviews-cleaned-v3.csv"
    write_synthetic_session(runs, "other data", epochs=1,
                            config=cfg.with_field(cfg.with_field(cfg.preset("nano"), "data.train_path", long_path),
                                                  "model.emb_dim", 48))
    code, out, _ = twb(["compare", "base", "fast", "other-data", "--dir", str(runs)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    headers = [line for line in lines if line.startswith("NAME")]
    assert len(headers) >= 2
    assert "BEST ACC" in headers[0] and "LR" in out and "EMB_DIM" in out
    assert "reviews-cleaned-v3.csv" in out  # a cut path keeps its file name
    base = next(line for line in lines if line.startswith("base"))
    assert "finished" in base and "0.9200" in base and "28" in base.split()


def test_csv_has_one_row_per_run_and_the_differing_setting_by_its_full_key(runs, capsys):
    _, out, _ = twb(["compare", "base", "fast", "--dir", str(runs), "--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["base", "fast"]
    assert float(rows[1]["train.lr"]) == pytest.approx(2 * cfg.preset("nano").train.lr) and rows[0]["best_step"] == "28"
    assert "model.emb_dim" not in rows[0]  # the same in both runs


def test_sort_and_where_pick_and_order_runs(runs, capsys):
    _, out, _ = twb(["compare", "base", "fast", "killed", "--dir", str(runs), "--json",
                     "--sort=-best_val_accuracy"], capsys)
    assert [r["name"] for r in json.loads(out)][0] == "base"
    _, out, _ = twb(["compare", "base", "fast", "killed", "--dir", str(runs), "--json", "--sort", "train.lr"], capsys)
    assert [r["name"] for r in json.loads(out)][-1] == "fast"
    _, out, _ = twb(["compare", "base", "fast", "killed", "--dir", str(runs), "--json",
                     "--where", "best_val_accuracy>0.91"], capsys)
    assert [r["name"] for r in json.loads(out)] == ["base"]
    _, out, _ = twb(["compare", "base", "fast", "--dir", str(runs), "--where", "val_accuracy>0.99"], capsys)
    assert "no run matches" in out


@pytest.mark.parametrize("argv, message", [
    (["--where", "val_accuracy>>0.8"], "is not a number"),
    (["--where", "val_accuracy"], "is not COLUMN OP VALUE"),
    (["--where", "speed>3"], "unknown column 'speed'"),
    (["--sort", "speed"], "unknown column 'speed'"),
])
def test_a_malformed_where_or_sort_is_one_line(runs, capsys, argv, message):
    code, out, err = twb(["compare", "base", "fast", "--dir", str(runs), *argv], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("twb: error:") and message in err


def test_missing_names_and_sessions_without_epochs_get_a_note_not_a_crash(runs, capsys):
    write_synthetic_session(runs, "empty", epochs=0, end="none")
    code, out, err = twb(["compare", "base", "nope", "empty", "--dir", str(runs)], capsys)
    assert code == 0
    assert "no session 'nope'" in err
    assert any(line.startswith("nope") and "missing" in line for line in out.splitlines())
    assert "empty: no epoch completed" in out
    code, _, err = twb(["compare", "nope", "gone", "--dir", str(runs)], capsys)
    assert code == 2 and "none of the named sessions" in err


def test_different_label_sets_are_noted(runs, capsys):
    from core.sessions import compare
    from core.sessions.reader import open_session

    rows = [compare.row_of(open_session("base", runs)), compare.row_of(open_session("fast", runs))]
    rows[1].labels = ["neg", "neu", "pos"]
    compare.add_label_notes(rows)
    assert all("do not share one label set" in " ".join(r.notes) for r in rows)
    assert "do not share one label set" in compare.format_table(rows)


def test_a_typed_filter_is_a_metric_condition_or_text(runs):
    from core.errors import UserError
    from core.sessions import compare
    from core.sessions.reader import open_session

    rows = [compare.row_of(open_session(name, runs)) for name in ("base", "fast", "killed")]
    assert [r.name for r in compare.search_rows(rows, "best_val_accuracy>0.91")] == ["base"]
    assert [r.name for r in compare.search_rows(rows, "  KILL ")] == ["killed"]
    assert [r.name for r in compare.search_rows(rows, "crashed")] == ["killed"]  # the status matches too
    assert compare.search_rows(rows, "") == rows
    with pytest.raises(UserError, match="not a number"):
        compare.search_rows(rows, "val_accuracy>high")
    with pytest.raises(UserError, match="unknown column"):
        compare.search_rows(rows, "accuracy>0.5")


def test_a_first_row_comes_from_the_listing_summary(runs):
    from core.sessions import compare
    from core.sessions.listing import list_sessions

    by_name = {s.name: compare.row_of_summary(s) for s in list_sessions(runs)}
    assert by_name["base"].best_val_accuracy == pytest.approx(0.5 + 0.45 * 28 / 30)
    assert by_name["killed"].status == "crashed" and by_name["base"].best_step is None
