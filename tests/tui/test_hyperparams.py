"""The hyperparameter form: live per-field validation, presets, help line, TOML save/load."""
from core.config import PRESETS, load_toml
from textual.widgets import Button, Input, Static

from tui.app import create_app


def field_error(app, dotted: str) -> str:
    return app.form.error_text(dotted)


async def type_into(pilot, selector: str, text: str) -> None:
    widget = pilot.app.query_one(selector, Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)
    await pilot.pause()


async def test_invalid_value_shows_engine_message_and_disables_start(scripted):
    app = create_app(PRESETS["nano"], trainer_factory=scripted, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await type_into(pilot, "#f-model-emb_dim", "15")  # nano has 2 heads
        assert "not divisible by model.n_heads=2" in field_error(app, "model.emb_dim")
        assert app.query_one("#start", Button).disabled
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        assert app.training_worker is None and not scripted.instances
        await type_into(pilot, "#f-model-emb_dim", "16")
        assert field_error(app, "model.emb_dim") == ""
        assert not app.query_one("#start", Button).disabled


async def test_unparsable_value_is_reported_under_its_field():
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await type_into(pilot, "#f-train-lr", "fast")
        assert "expected a number" in field_error(app, "train.lr")
        assert "train.lr" in app.form.errors
        await type_into(pilot, "#f-train-lr", "3e-4")
        assert app.form.config.train.lr == 3e-4 and not app.form.errors


async def test_focused_field_explains_itself():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        app.query_one("#f-model-n_heads").focus()
        await pilot.pause()
        assert "Attention heads" in str(app.query_one("#field-help", Static).render())


async def test_choosing_a_preset_fills_every_field():
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        app.query_one("#preset").value = "seed"
        await pilot.pause()
        assert app.form.config == PRESETS["seed"]
        assert app.query_one("#f-model-max_seq_len", Input).value == "10"
        assert app.query_one("#f-data-source").value == "random"


async def test_config_saves_to_and_loads_from_toml(tmp_path):
    path = tmp_path / "run.toml"
    app = create_app(PRESETS["nano"], install_signal_handlers=False, config_path=str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await type_into(pilot, "#f-train-epochs", "7")
        await pilot.press("ctrl+s")
        await pilot.press("enter")
        assert load_toml(path).train.epochs == 7
        await type_into(pilot, "#f-train-epochs", "3")
        await pilot.press("ctrl+o")
        await pilot.press("enter")
        await pilot.pause()
        assert app.form.config.train.epochs == 7
        assert app.query_one("#f-train-epochs", Input).value == "7"


async def test_data_paths_that_do_not_resolve_are_field_errors_not_a_failure_at_f6(tmp_path, monkeypatch, scripted):
    monkeypatch.chdir(tmp_path)  # the sst2 preset's paths are relative: not found from here
    app = create_app(PRESETS["sst2"], trainer_factory=scripted, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        assert "does not exist" in field_error(app, "data.train_path")
        assert "does not exist" in field_error(app, "data.val_path")
        assert "ready" not in str(app.query_one("#form-status", Static).render())
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        assert app.training_worker is None and not scripted.instances
        (tmp_path / "train.tsv").write_text("sentence\tlabel\ngood\t1\nbad\t0\n")
        await type_into(pilot, "#f-data-train_path", "train.tsv")
        await type_into(pilot, "#f-data-val_path", "train.tsv")
        assert field_error(app, "data.train_path") == "" and not app.form.errors


async def test_the_help_line_is_read_whole_at_80_columns():
    from textual.geometry import Region

    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        for field in ("#preset", "#f-train-eval_every_steps"):
            app.query_one(field).focus()
            await pilot.pause()
            help_line = app.query_one("#field-help", Static)
            text = str(help_line.render())
            assert len(text) > 76  # more than the one line of text the help line had (under its border)
            size = help_line.outer_size  # the whole widget: its border line and the text under it
            shown = "".join(strip.text for strip in help_line.render_lines(Region(0, 0, size.width, size.height)))
            assert "".join(text.split()) in "".join(shown.split())


async def test_a_switch_says_on_or_off_so_it_reads_without_colour():
    from textual.widgets import Checkbox

    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        lowercase = app.query_one("#f-data-lowercase", Checkbox)
        remote = app.query_one("#f-model-trust_remote_code", Checkbox)
        assert str(lowercase.label) == "on" and str(remote.label) == "off"
        lowercase.focus()
        await pilot.press("space")
        await pilot.pause()
        assert str(lowercase.label) == "off" and app.form.config.data.lowercase is False
        app.form.set_config(PRESETS["nano"])  # a preset sets it back, label and all
        await pilot.pause()
        assert str(lowercase.label) == "on"
