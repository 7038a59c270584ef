"""Pane 3: the token-attention matrix viewer.

Type a sentence (up/down offers earlier sentences and validation examples) and press Enter:
a thread worker gets a model - a snapshot of the one being trained (``Trainer.snapshot()``,
a CPU copy, so the run is not disturbed), a checkpoint folder, or a local Hugging Face model
folder - and computes an ``AttentionView``. The heatmap shows it; the readout names the cell
under the cursor and each query token's most attended tokens.

torch is imported inside the worker, never when the pane is built.
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from core.errors import UserError
from core.events import EpochCompleted, Event, TrainingFinished
from core.explanation import Explanation
from tui.commands import ATTENTION_BINDINGS
from tui.image_saving import ImageSaver
from tui.pane import RecordError
from tui.widgets.heatmap import AttentionHeatmap, matrix_for, token_label
from tui.widgets.history_input import HistoryInput
from tui.widgets.model_grid import ModelGrid

if TYPE_CHECKING:
    from core.sessions.cursor import RecordedAttention

SLIM_WIDTH = 100  # below this many columns the top-attended list is folded into the readout
SnapshotProvider = Callable[[], Any]  # returns a ClassifierSnapshot or None
PROMPT = ("Type a sentence and press Enter (up/down: earlier sentences and validation examples). "
          "Tab: into the heatmap, where arrows move, l/L layer, h/H head, m mean of heads; shift+tab back.")


def top_tokens(view: Any, layer: int, head: int | None, query: int, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` keys ``query`` attends to most (the engine's ``top_attended`` when available)."""
    try:
        from core.attention import top_attended
    except ImportError:
        row = matrix_for(view, layer, head)[query]
        order = sorted(range(len(row)), key=lambda j: -float(row[j]))[:k]
        return [(view.tokens[j], float(row[j])) for j in order]
    return top_attended(view, layer, head, query, k)


def top_text(view: Any, layer: int, head: int | None, query: int) -> str:
    return ", ".join(f"{token_label(t)} {w:.2f}" for t, w in top_tokens(view, layer, head, query))


def compute_view(text: str, model_ref: str, snapshot: SnapshotProvider, cache: dict[str, Any]) -> Any:
    """An AttentionView of ``text`` from the training model (empty ref), a checkpoint or an HF folder."""
    from core.attention import attention_for_text

    if not model_ref:
        snap = snapshot()
        if snap is None:
            raise UserError("no model to look at yet",
                            "start training (F6), or type a checkpoint folder or a local Hugging Face model folder in the model field")
        return attention_for_text(snap.model, snap.encoder, text, snap.max_seq_len, snap.label_names)
    from core.hf.attention import attention_of_model

    return attention_of_model(model_ref, text, cache)


class AttentionPane(Vertical):
    # Tab from the sentence goes straight to the heatmap once there is one (past the model field).
    BINDINGS = [Binding("tab", "into_heatmap", "Heatmap", show=False), *ATTENTION_BINDINGS]
    ALLOW_MAXIMIZE = True  # the model view takes the whole screen: 12 heads do not fit a quarter of it

    class ViewReady(Message):
        def __init__(self, view: Any, text: str) -> None:
            super().__init__()
            self.view = view
            self.text = text

    class ViewFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, snapshot: SnapshotProvider | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Attention"
        self.snapshot = snapshot or (lambda: None)
        self.text = ""  # the sentence on show
        self.model_ref = ""
        self.view: Any = None
        self.error = ""
        self._cache: dict[str, Any] = {}
        self.images = ImageSaver()
        self.recorded_explanation: Any = None  # replay: the explanation last looked at (x shows it)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="input-row"):
            yield HistoryInput(placeholder="sentence to inspect", id="attn-text", compact=True)
            yield Input(placeholder="model: empty = the model being trained; or a checkpoint / HF folder",
                        id="attn-model", compact=True)
        # markup=False: tokens such as "[CLS]" are text, not markup tags (they vanished as '').
        yield Static(PROMPT, id="attn-readout", markup=False)
        with Horizontal(id="attn-body"):
            yield AttentionHeatmap(id="heatmap")
            yield ModelGrid(id="model-grid")  # shown instead of the heatmap in the model view (g)
            with VerticalScroll(id="attn-top-scroll"):
                yield Static("", id="attn-top", markup=False)
        yield Static("", id="attn-legend", markup=False)

    def on_resize(self) -> None:
        # The per-token list needs room beside the heatmap; in a slim pane the readout has it.
        self.set_class(self.size.width < SLIM_WIDTH, "-slim")

    def set_examples(self, texts: list[str]) -> None:
        self.query_one("#attn-text", HistoryInput).examples = list(texts[:200])

    # --- computing -----------------------------------------------------------------------

    @on(Input.Submitted, "#attn-text, #attn-model")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text_input = self.query_one("#attn-text", HistoryInput)
        text = text_input.value.strip()
        if not text:
            self._show_error("type a sentence first")
            return
        text_input.remember(text)
        # Focus stays in the sentence field (the next sentence is typed at once); Tab enters the heatmap.
        self.show_text(text, self.query_one("#attn-model", Input).value.strip())

    def show_text(self, text: str, model_ref: str = "") -> None:
        self.text, self.model_ref = text, model_ref
        self.query_one("#attn-readout", Static).update(f"computing attention for {text!r} ...")
        self._compute(text, model_ref)

    @work(thread=True, exclusive=True, exit_on_error=False, group="attention")
    def _compute(self, text: str, model_ref: str) -> None:
        try:
            view = compute_view(text, model_ref, self.snapshot, self._cache)
        except UserError as exc:
            self.post_message(self.ViewFailed(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - shown in the pane; the app keeps running
            self.post_message(self.ViewFailed(f"cannot compute attention: {type(exc).__name__}: {exc}"))
            return
        self.post_message(self.ViewReady(view, text))

    def on_attention_pane_view_ready(self, message: ViewReady) -> None:
        self.show_view(message.view)

    def on_attention_pane_view_failed(self, message: ViewFailed) -> None:
        self._show_error(message.message)

    def action_into_heatmap(self) -> None:
        heat = self.query_one(AttentionHeatmap)
        if self.view is not None and self.app.focused is self.query_one("#attn-text"):
            heat.focus()
        else:
            self.screen.focus_next()

    def _show_error(self, message: str) -> None:
        self.error = message
        self.query_one("#attn-readout", Static).update(message)

    def show_view(self, view: Any) -> None:
        """Display any AttentionView (workbench or Hugging Face model, causal or not)."""
        self.view, self.error = view, ""
        self.query_one(AttentionHeatmap).set_view(view)
        if self.has_class("-model-view"):
            self.query_one(ModelGrid).set_view(view)

    # --- the model view and images -------------------------------------------------------------

    def action_model_view(self) -> None:
        heat = self.query_one(AttentionHeatmap)
        if self.view is None:
            self._show_error("no attention view yet: type a sentence and press Enter first")
        elif self.has_class("-model-view"):
            self._close_model_view()
        else:
            self.add_class("-model-view")
            self.screen.maximize(self, container=False)
            grid = self.query_one(ModelGrid)
            grid.set_view(self.view, heat.layer_index, heat.head_index or 0)
            grid.focus()

    def on_mount(self) -> None:
        # Escape on a maximized widget is Textual's own "minimize"; it ends the model view too.
        self.watch(self.screen, "maximized", self._maximized, init=False)

    def _maximized(self, widget: Any) -> None:
        if widget is not self and self.has_class("-model-view"):
            self._close_model_view()

    def on_descendant_blur(self) -> None:
        # Focus went to another pane (F2, F3, F5): the model view must not stay over it.
        self.call_after_refresh(self._close_if_left)

    def _close_if_left(self) -> None:
        focused = self.screen.focused  # this screen's: a dialog on top (the save prompt) keeps it
        if self.has_class("-model-view") and (focused is None or self not in focused.ancestors_with_self):
            self._close_model_view()

    def _close_model_view(self) -> None:
        self.remove_class("-model-view")
        if self.screen.maximized is self:
            self.screen.minimize()
        heat = self.query_one(AttentionHeatmap)
        heat.focus()
        heat.post_message(heat.Changed(heat))  # the readout names the head again

    @on(ModelGrid.Changed)
    def _grid_changed(self, event: ModelGrid.Changed) -> None:
        grid = event.grid
        self.query_one("#attn-readout", Static).update(
            f"model view: every layer x head of {grid.view.source} · layer {grid.layer_index + 1}/{grid.view.num_layers} "
            f"· head {grid.head_index + 1}/{grid.view.num_heads}\narrows pick a head, Enter opens it full size, "
            "Escape goes back, s saves the grid as an image")

    @on(ModelGrid.Picked)
    def _grid_picked(self, event: ModelGrid.Picked) -> None:
        self.query_one(AttentionHeatmap).show_head(event.layer, event.head)
        self._close_model_view()

    @on(ModelGrid.Closed)
    def _grid_closed(self) -> None:
        self._close_model_view()

    def action_save_image(self) -> None:
        from core.render import attention_figure, grid_figure

        view, heat = self.view, self.query_one(AttentionHeatmap)
        if view is None:
            self._show_error("no attention view to save yet: type a sentence and press Enter first")
        elif self.has_class("-model-view"):
            self.images.ask_and_save(self.app, "the model view", "attention-grid", partial(grid_figure, view))
        else:
            layer, head = heat.layer_index, heat.head_index
            stem = f"attention-layer{layer + 1}-" + ("mean" if head is None else f"head{head + 1}")
            self.images.ask_and_save(self.app, f"layer {layer + 1}, " + ("mean of heads" if head is None else f"head {head + 1}"),
                                     stem, partial(attention_figure, view, layer, head, (heat.row, heat.col)))

    # --- readout ---------------------------------------------------------------------------

    @on(AttentionHeatmap.Changed)
    def _heatmap_changed(self, event: AttentionHeatmap.Changed) -> None:
        heat = event.heatmap
        view = heat.view
        if view is None:
            return
        head = f"mean of {heat.num_heads} heads" if heat.head_index is None else f"head {heat.head_index + 1}/{heat.num_heads}"
        query, key = view.tokens[heat.row], view.tokens[heat.col]
        value = heat.value_at_cursor()
        q_label, k_label = token_label(query), token_label(key)
        if view.causal and heat.col > heat.row:
            cell = f"{q_label} cannot attend to the later {k_label}"
        else:
            cell = f"{q_label} -> {k_label}: {value:.3f}"
        prediction = ""
        if view.prediction:
            label, prob = max(view.prediction.items(), key=lambda kv: kv[1])
            prediction = f" · predicts {label} ({prob:.2f})"
        truncated = getattr(view, "truncated", 0)
        cut = f" · {truncated} tokens cut (max_seq_len)" if truncated else ""
        # Short lines, most useful first: at 80 columns the list beside the heatmap is hidden.
        self.query_one("#attn-readout", Static).update(
            f"layer {heat.layer_index + 1}/{heat.num_layers} · {head} · {view.source}{prediction}{cut}\n"
            f"{q_label} attends most to: {top_text(view, heat.layer_index, heat.head_index, heat.row)}\n"
            f"cursor: {cell}"
        )
        self.query_one("#attn-legend", Static).update(f"{heat.legend()} · g grid · s save · x explain · v Q/K/V")
        lines = []
        for q, token in enumerate(view.tokens):
            marker = ">" if q == heat.row else " "
            lines.append(f"{marker}{token_label(token)[:12]:>12} -> {top_text(view, heat.layer_index, heat.head_index, q)}")
        self.query_one("#attn-top", Static).update("\n".join(lines))

    # --- explanations (tui/screens/explain.py, tui/screens/qkv.py) ------------------------------

    def explainable(self) -> Any:
        """The classifier on show, for the explanation screens' workers."""
        from tui.screens.explain import explainable_for

        return explainable_for(self.model_ref, self.snapshot, self._cache)

    def cursor_cell(self) -> tuple[int, int, int, int, float] | str:
        """(layer, head, query, key, weight) of the heatmap's cursor, or why there is none."""
        heat = self.query_one(AttentionHeatmap)
        if self.view is None or not self.text:
            return "type a sentence and press Enter first; then v shows the cursor cell's Q/K/V"
        if heat.head_index is None:
            return "the mean of heads has no single Q/K/V: press m for one head, then v"
        return heat.layer_index, heat.head_index, heat.row, heat.col, heat.value_at_cursor()

    def note(self, message: str) -> None:
        self._show_error(message)

    # --- the pane contract (tui.pane) ------------------------------------------------------------

    def apply_event(self, event: Event) -> None:
        # Follow the training model: after each epoch, refresh the sentence on show.
        if isinstance(event, (EpochCompleted, TrainingFinished)) and self.text and not self.model_ref:
            self._compute(self.text, "")

    def layer_and_head(self) -> tuple[int | None, int | None]:
        """The layer and head on show (None head: the mean of heads); a session records them with the view."""
        heatmap = self.query_one(AttentionHeatmap)
        return heatmap.layer_index, heatmap.head_index

    def reset(self) -> None:
        self.view, self.text, self.error = None, "", ""
        self.recorded_explanation = None
        self.query_one("#attn-readout", Static).update("no attention view had been looked at yet")

    def show_recorded(self, item: RecordedAttention | Explanation | RecordError) -> None:
        """A view or explanation the user looked at in a recorded session (or why it cannot be shown)."""
        if isinstance(item, Explanation):
            self.recorded_explanation = item
            self.query_one("#attn-readout", Static).update(
                f"explanation recorded for {item.text!r} ({item.source} predicts {item.predicted}): "
                "x shows it (ctrl+t when the heatmap is not focused)")
            return
        if isinstance(item, RecordError):
            self._show_error(item.message)
            return
        self.show_view(item)
        if item.text:
            self.query_one("#attn-text", HistoryInput).value = item.text
