"""`twb attention`: a checkpoint's or a Hugging Face folder's attention as text or as an image,
and one-line errors for a layer or head out of range, a bad image name or a missing folder."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from core import cli as core_cli
from test_export import make_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread", "private_data_dir")
pytest.importorskip("matplotlib")


def twb(argv, capsys):
    code = core_cli.run_command(core_cli.build_parser().parse_args(["attention", *argv]))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "best", num_layers=2)


def test_text_output_lists_each_tokens_most_attended_tokens(checkpoint, capsys):
    from core.attention import top_attended
    from core.hf.attention import attention_of_model

    code, out, err = twb(["a wonderful , moving film", "--model", str(checkpoint), "--head", "2"], capsys)
    assert code == 0, err
    view = attention_of_model(str(checkpoint), "a wonderful , moving film")
    lines = out.splitlines()
    assert lines[0].startswith("workbench model · layer 1/") and "head 2/2" in lines[0]
    assert lines[1].startswith("predicts ")
    rows = lines[2:]
    assert len(rows) == len(view.tokens)
    (token, weight), *_ = top_attended(view, 0, 1, 1)
    assert rows[1].split("->")[1].strip().startswith(f"{token} {weight:.2f}")


def test_out_writes_the_view_and_grid_writes_every_layer_and_head(tiny, tmp_path, capsys):
    model = str(tiny["bert-mlm"])
    code, out, err = twb(["paris is a beautiful city", "--model", model, "--layer", "2", "--head", "1",
                          "--out", str(tmp_path / "head.svg")], capsys)
    assert code == 0, err
    assert out.strip() == f"wrote {tmp_path / 'head.svg'}"
    texts = ["".join(t.itertext()) for t in ET.parse(tmp_path / "head.svg").getroot().iter("{http://www.w3.org/2000/svg}text")]
    for token in ("[CLS]", "paris", "city", "[SEP]"):
        assert token in texts
    assert any("layer 2/2 · head 1/" in t for t in texts)
    code, out, err = twb(["paris is a beautiful city", "--model", model, "--grid", "--out", str(tmp_path / "grid.png")],
                         capsys)
    assert code == 0, err
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["--layer", "3"], "--layer 3 is out of range: the model has 2 layers (give --layer from 1 to 2)"),
    (["--layer", "0"], "--layer 0 is out of range"),
    (["--head", "9"], "--head 9 is out of range: each layer has 2 heads (give --head from 1 to 2, or 'mean')"),
    (["--head", "first"], "--head 'first' is not a head number"),
    (["--grid"], "--grid draws an image (add --out FILE.svg or --out FILE.png)"),
])
def test_a_layer_or_head_out_of_range_is_one_line(checkpoint, capsys, argv, message):
    code, out, err = twb(["a wonderful film", "--model", str(checkpoint), *argv], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_a_bad_image_name_is_refused_before_the_model_loads(tmp_path, capsys):
    missing_model = str(tmp_path / "no-model")  # never looked at: the name is checked first
    code, _, err = twb(["text", "--model", missing_model, "--out", str(tmp_path / "view.jpg")], capsys)
    assert code == 2 and "images are .svg or .png" in err
    code, _, err = twb(["text", "--model", missing_model, "--out", str(tmp_path / "nowhere" / "view.svg")], capsys)
    assert code == 2 and "does not exist" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_pane_and_the_command_compute_the_same_view(checkpoint):
    from core.hf.attention import attention_of_model
    from tui.panes.attention import compute_view

    cache = {}
    ours = compute_view("a moving film", str(checkpoint), lambda: None, cache)
    again = attention_of_model(str(checkpoint), "a moving film", cache)
    assert ours.tokens == again.tokens and np.array_equal(ours.weights, again.weights)
    assert list(cache) == [str(checkpoint)]  # loaded once
