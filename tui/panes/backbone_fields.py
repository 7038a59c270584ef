"""The form's scratch-only fields while ``model.backbone`` names a pretrained model.

A backbone brings its own sizes, so vocab_size, emb_dim, ... show the backbone's real values
(read from its config.json by ``core.pretrained.form_facts``, in a thread) and are read-only,
with a note saying why; back to scratch, they show the config's values again. The config keeps
its own values throughout: only the editors change, so presets still match.
"""
from __future__ import annotations

from typing import Any, Callable

from textual.widget import Widget
from textual.widgets import Checkbox, Input, Static

from core.pretrained.form_facts import SCRATCH_ONLY

NOTE_ID = "backbone-note"


class BackboneFields:
    """``editor``: the form's editor of a dotted field; ``as_text``: a value as the editor shows it."""

    def __init__(self, pane: Widget, editor: Callable[[str], Widget], as_text: Callable[[Any], str]) -> None:
        self.pane = pane
        self.editor = editor
        self.as_text = as_text
        self.locked = False

    def _editors(self) -> list[tuple[str, Any]]:
        return [(name, self.editor("model." + name)) for name in SCRATCH_ONLY]

    def lock(self, name: str, values: dict[str, Any] | None) -> None:
        """Show the backbone's values (None: not on this machine yet) in read-only editors."""
        with self.pane.prevent(Input.Changed, Checkbox.Changed):
            for field, editor in self._editors():
                if values and field in values:
                    editor.value = self.as_text(values[field])
                editor.disabled = True
        self.locked = True
        if values is None:
            note = (f"{', '.join(SCRATCH_ONLY)}: set by {name}, which is downloaded when training starts; "
                    "set backbone to scratch to edit them.")
        else:
            note = f"{', '.join(SCRATCH_ONLY)}: {name}'s own (read-only); set backbone to scratch to edit them."
        self._show_note(note)

    def release(self) -> None:
        """Scratch again: the editors show and edit the config's values."""
        if not self.locked:
            return
        with self.pane.prevent(Input.Changed, Checkbox.Changed):
            for field, editor in self._editors():
                editor.value = self.as_text(getattr(self.pane.config.model, field))
                editor.disabled = False
        self.locked = False
        for note in self.pane.query("#" + NOTE_ID):
            note.remove()

    def _show_note(self, text: str) -> None:
        found = self.pane.query("#" + NOTE_ID)
        if found:
            found.first(Static).update(text)
            return
        form = self.pane.query_one("#form")
        form.mount(Static(text, id=NOTE_ID, classes="field-note", markup=False),
                   after=self.editor("model.backbone"))
