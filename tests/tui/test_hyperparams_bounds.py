"""The form refuses the settings `twb train` refuses, with the same one-line message under the field."""
import pytest
from textual.widgets import Button, Input

from core import config_check
from core.config import PRESETS
from tui.app import create_app


async def type_into(pilot, selector: str, text: str) -> None:
    widget = pilot.app.query_one(selector, Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)
    await pilot.pause()


@pytest.mark.parametrize("field,value,expected", [
    ("model.vocab_size", "1e12", "from 5 to"),
    ("data.num_classes", "1500", "lower it to 1000"),  # nano has 2000 examples
    ("train.seed", "9223372036854775808", "2**63-1"),
])
async def test_huge_or_unsplittable_values_disable_start(scripted, field, value, expected):
    app = create_app(PRESETS["nano"], trainer_factory=scripted, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await type_into(pilot, "#f-" + field.replace(".", "-"), value)
        assert expected in app.form.error_text(field)
        assert app.query_one("#start", Button).disabled


async def test_a_model_too_big_for_the_machine_names_its_memory(scripted, monkeypatch):
    monkeypatch.setattr(config_check, "machine_memory_bytes", lambda: 8 * 1024**3)
    app = create_app(PRESETS["nano"], trainer_factory=scripted, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await type_into(pilot, "#f-model-emb_dim", "16384")
        assert "8.0 GiB" in app.form.error_text("model.emb_dim")
        assert app.query_one("#start", Button).disabled
