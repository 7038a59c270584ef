"""The compare screen's runs table: one row per run, the columns of `twb compare` plus notes.

Cells come from core.sessions.compare (``columns``, ``cell``, ``hparam_header``), so the screen
and the command show the same values. Each name carries its run's chart marker. Cells are
``Text``, never markup: a note may hold brackets ("[Errno 13]").
"""
from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from core.sessions import compare
from tui.widgets.compare_chart import run_style

READING = "reading the log…"  # the note of a row still waiting for its log


class RunsTable(DataTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="cell", zebra_stripes=True)
        self.keys: list[str] = []

    def fill(self, rows: list[compare.CompareRow], shown: list[int], sort_key: str | None) -> None:
        """Show ``rows[p]`` for each position ``p`` in ``shown`` (the row key), keeping the cursor."""
        at = self.cursor_coordinate
        self.keys = [*compare.columns(rows), "notes"]
        hparams = compare.differing_hparams(rows)
        headers = {"name": "NAME", "notes": "NOTES", **dict(compare.METRICS),
                   **{k: compare.hparam_header(k, hparams).upper() for k in hparams}}
        titles = []
        for key in self.keys:
            arrow = ""
            if sort_key and sort_key.lstrip("-") == key:
                arrow = " ▼" if sort_key.startswith("-") else " ▲"
            titles.append(Text(headers[key] + arrow))
        table = [[Text(f"{run_style(p)[1]} {rows[p].name}"),
                  *(Text(compare.cell(k, rows[p].value(k))) for k in self.keys[1:-1]),
                  Text("; ".join(rows[p].notes) or "-")] for p in shown]
        self.clear(columns=True)
        # Widths are given, not left to DataTable, which measures new rows later, when it
        # idles: on a loaded machine the table was seen to stay as narrow as its headers
        # ("o ga" for "o gamma") for the 45 s a test waited.
        for i, (key, title) in enumerate(zip(self.keys, titles)):
            self.add_column(title, key=key, width=max(cell.cell_len for cell in [title, *(r[i] for r in table)]))
        for p, cells in zip(shown, table):
            self.add_row(*cells, key=str(p))
        if shown:
            self.cursor_coordinate = (min(at.row, len(shown) - 1), min(at.column, len(self.keys) - 1))

    def column_key(self) -> str:
        """The key of the column under the cursor."""
        return self.keys[self.cursor_coordinate.column]
