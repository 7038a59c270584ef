"""The compare screen: mark runs in the session picker (space), compare them (c), read the curves
and the runs table, sort, filter, open a replay; bad sessions get a note, never a crash."""
import shutil

import pytest
from textual.app import App
from textual.widgets import DataTable, Input

from core import config as cfg
from tests.synthetic_sessions import write_synthetic_session
from tui.screens.compare import CompareScreen
from tui.session_picker import SessionPickerScreen, pick_and_open
from tui.widgets.compare_chart import CompareChart, run_style


class Host(App):
    pass


def text(screen, selector) -> str:
    return str(screen.query_one(selector).render())


def names(screen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def settle(app, pilot, screen) -> None:
    """Until every log is read and every chart computed (thread workers, then their messages)."""
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if screen.read == len(screen.rows) and not screen.pending:
            return
    raise AssertionError("the compare screen did not finish reading")


async def open_compare(app, pilot, root, presses, launched):
    pick_and_open(app, str(root), launch=lambda _app, mode, folder: launched.append((mode, folder)))
    await pilot.pause()
    await pilot.press(*presses, "c")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    await settle(app, pilot, screen)
    return screen


@pytest.fixture
def two_runs(tmp_path):
    # fast: best accuracy 0.905, at the mid-epoch evaluation of step 18; slow: 0.9 at its end.
    fast = write_synthetic_session(tmp_path, "fast", epochs=2, steps_per_epoch=10, eval_every=3)
    nano = cfg.preset("nano")
    slow = write_synthetic_session(tmp_path, "slow", epochs=4, steps_per_epoch=10,
                                   config=cfg.with_field(nano, "train.lr", nano.train.lr / 2))
    return tmp_path, fast.folder, slow.folder


async def test_mark_compare_views_axes_smoothing_and_back_at_80x24(two_runs):
    root, fast, slow = two_runs
    app, launched = Host(), []
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(app, pilot, root, ["space", "down", "space"], launched)  # newest first: slow, fast
        assert names(screen) == [f"{run_style(0)[1]} slow", f"{run_style(1)[1]} fast"]
        title = text(screen, "#compare-title")
        assert "Comparing 2 runs" in title and "x step" in title and "smoothing 0.6, debiased EMA" in title
        table = screen.query_one(DataTable)
        assert table.display and not screen.query_one("#chart-val_accuracy").display  # one view at a time

        await pilot.press("v")
        chart = screen.query_one("#chart-val_accuracy", CompareChart)
        assert chart.display and not table.display
        assert chart.drawn_runs == ["slow", "fast"]
        steps = {run.name: run.series["val_accuracy"] for _, run in screen.chart_data()}
        assert [x for x, _ in steps["fast"]] == [3, 6, 9, 10, 12, 15, 18, 20]  # mid-epoch evaluations included

        await pilot.press("x")
        await settle(app, pilot, screen)
        epochs = {run.name: run.series["val_accuracy"] for _, run in screen.chart_data()}
        assert [x for x, _ in epochs["slow"]] == [1.0, 2.0, 3.0, 4.0]
        assert "x epoch" in text(screen, "#compare-title")

        smoothed = epochs["slow"]
        for _ in range(3):  # 0.6 -> 0.9 -> 0.99 -> off
            await pilot.press("s")
        await settle(app, pilot, screen)
        raw = {run.name: run.series["val_accuracy"] for _, run in screen.chart_data()}["slow"]
        assert "smoothing off" in text(screen, "#compare-title")
        assert [y for _, y in raw] == pytest.approx([0.6, 0.7, 0.8, 0.9])
        assert [y for _, y in smoothed][1:] != pytest.approx([y for _, y in raw][1:])

        await pilot.press("l")
        assert "log-y" in text(screen, "#compare-title")

        await pilot.press("v", "v", "v")  # back round to the table
        assert table.display
        await pilot.press("escape")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, SessionPickerScreen) and len(picker.marked) == 2
        await pilot.press("c")  # the marks were kept: compare again at once
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen) and len(app.screen.rows) == 2


async def test_sort_filter_and_enter_opens_the_replay_at_160x48(two_runs):
    root, fast, slow = two_runs
    app, launched = Host(), []
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_compare(app, pilot, root, ["space", "down", "space"], launched)
        assert screen.has_class("-all")
        assert all(screen.query_one(f"#chart-{m}").display for m in ("val_accuracy", "val_loss", "train_loss"))
        assert screen.query_one(DataTable).display
        headers = [str(c.label) for c in screen.query_one(DataTable).columns.values()]
        assert headers[-2:] == ["LR", "NOTES"]  # of the settings, only the one that differs

        await pilot.press("right", "right", "o")  # the BEST ACC column
        assert screen.sort_key == "best_val_accuracy" and names(screen)[0].endswith("slow")  # 0.9 < 0.905
        await pilot.press("o")
        assert screen.sort_key == "-best_val_accuracy" and names(screen)[0].endswith("fast")

        await pilot.press("slash")
        assert screen.query_one("#compare-filter", Input).has_focus
        await pilot.press(*"slo", "enter")
        assert [n.split()[-1] for n in names(screen)] == ["slow"]
        assert screen.query_one("#chart-val_loss", CompareChart).drawn_runs == ["slow"]  # charts follow the filter

        await pilot.press("slash", "ctrl+u", *"best_val_accuracy>0.902", "enter")
        assert [n.split()[-1] for n in names(screen)] == ["fast"]
        await pilot.press("slash", "ctrl+u", *"val_accuracy>lots", "enter")
        assert len(names(screen)) == 2  # nothing lost: a malformed filter shows every run and says why
        assert "not a number" in text(screen, "#compare-notes")
        await pilot.press("slash", "ctrl+u", *"[/b]", "enter")  # shown as typed, not read as markup
        assert names(screen) == [] and "no run matches '[/b]'" in text(screen, "#compare-notes")
        await pilot.press("slash", "ctrl+u", "escape")
        assert screen.query_one(DataTable).has_focus

        await pilot.press("slash", "ctrl+u", "enter", "down", "enter")  # sorted best first: slow is second
        await pilot.pause()
        assert launched == [("replay", slow)]


async def test_bad_sessions_are_shown_with_a_note_never_a_crash(tmp_path):
    write_synthetic_session(tmp_path, "good", epochs=2, steps_per_epoch=5)
    write_synthetic_session(tmp_path, "empty", epochs=0, steps_per_epoch=5)
    crashed = write_synthetic_session(tmp_path, "killed", epochs=1, steps_per_epoch=5, end="none", close=False)
    crashed.writer.close()
    write_synthetic_session(tmp_path, "labels", epochs=1, steps_per_epoch=5, label_names=("a", "b", "c"))
    gone = write_synthetic_session(tmp_path, "gone", epochs=1, steps_per_epoch=5)
    broken = tmp_path / "20000101-000000-broken"  # oldest: last in the picker
    broken.mkdir()
    (broken / "session.jsonl").write_bytes(b"")
    app, launched = Host(), []
    async with app.run_test(size=(160, 48)) as pilot:
        pick_and_open(app, str(tmp_path), launch=lambda _app, mode, folder: launched.append((mode, folder)))
        await pilot.pause()
        shutil.rmtree(gone.folder)  # deleted between the listing and the compare
        assert len(app.screen.summaries) == 6
        await pilot.press(*["space", "down"] * 6, "c")
        await pilot.pause()
        screen = app.screen
        await settle(app, pilot, screen)
        notes = text(screen, "#compare-notes")
        assert "empty: no epoch completed" in notes
        assert "killed: crashed: metrics as of the last record" in notes
        assert "labels a, b, c: the runs do not share one label set" in notes
        assert "gone:" in notes and "missing" in [r.status for r in screen.rows]
        assert "broken:" in notes and "is empty" in notes and "unreadable" in [r.status for r in screen.rows]
        assert screen.query_one("#chart-val_accuracy", CompareChart).drawn_runs == ["labels", "killed", "good"]
        gone_row = [r.name for r in screen.rows].index("gone")
        await pilot.press(*["down"] * names(screen).index(f"{run_style(gone_row)[1]} gone"), "enter")
        await pilot.pause()
        assert launched == [] and isinstance(app.screen, CompareScreen)


async def test_c_without_marks_says_how_to_mark(two_runs):
    root, _, _ = two_runs
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        pick_and_open(app, str(root), launch=lambda *a: None)
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, SessionPickerScreen)
        assert any("Mark the runs" in n.message for n in app._notifications)


def test_every_run_has_its_own_colour_and_marker_pair():
    styles = [run_style(p) for p in range(30)]
    assert len(set(styles)) == 30
    assert len({marker for _, marker in styles[:10]}) == 10  # without colour, ten runs still differ


async def test_in_the_workbench_ctrl_r_on_the_compare_screen_opens_no_second_picker(sessions_dir, holding_factory):
    from core.config import PRESETS
    from tui.app import create_app

    write_synthetic_session(sessions_dir, "one", epochs=1, steps_per_epoch=5)
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("ctrl+r", "space", "c")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        await settle(app, pilot, app.screen)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert sum(isinstance(s, SessionPickerScreen) for s in app.screen_stack) == 1


async def test_w_saves_the_compared_curves_as_an_svg_with_every_run(two_runs, tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET

    root, _, _ = two_runs
    app, launched = Host(), []
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(app, pilot, root, ["space", "down", "space"], launched)
        await pilot.press("w")
        await pilot.pause()
        app.screen.query_one("#prompt-input").value = str(tmp_path / "compare.svg")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.images.last_error is None
    texts = {"".join(t.itertext()) for t in
             ET.parse(tmp_path / "compare.svg").getroot().iter("{http://www.w3.org/2000/svg}text")}
    legend = {t for t in texts if t.startswith(("slow", "fast"))}
    assert {"2 runs compared, smoothing 0.6 (debiased EMA)", "step"} <= texts
    assert any("slow" in t for t in legend) and any("fast" in t for t in legend)


async def test_the_runs_table_is_as_wide_as_its_cells_however_often_it_is_refilled():
    # Refilled again and again with no idle in between, as rows arrive while the logs are read:
    # every column is as wide as its widest cell. The tmux test once saw "o ga" on a loaded
    # machine; this harness does not reproduce that, it pins that the widths come from the cells.
    from core.sessions.compare import CompareRow
    from tui.widgets.runs_table import RunsTable

    rows = [CompareRow(name="gamma-a-long-run-name", folder="g", status="finished", best_val_accuracy=0.9125,
                       notes=["no epoch completed"]),
            CompareRow(name="b", folder="b", status="failed")]

    class TableHost(App):
        def compose(self):
            yield RunsTable(id="t")

    app = TableHost()
    async with app.run_test(size=(160, 24)) as pilot:
        table = app.query_one(RunsTable)
        for sort_key in (None, "name", "-name", None):
            table.fill(rows, [0, 1], sort_key)
        await pilot.pause()
        widths = [column.get_render_width(table) - 2 * table.cell_padding for column in table.columns.values()]
        for i in range(2):
            cells = [str(cell) for cell in table.get_row_at(i)]
            assert all(len(cell) <= width for cell, width in zip(cells, widths)), (cells, widths)
        assert widths[0] == len(f"{run_style(0)[1]} gamma-a-long-run-name")
