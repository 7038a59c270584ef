"""The Q/K/V panel: how the heatmap's cursor cell came to be, with the real numbers of the head.

In the tutorial's terms: the Query is the question a word asks, the Key the answer a word
offers, the Value the information it brings. The panel shows q and k, their dot product,
the scaling by sqrt(d), the softmax over the row and how the weights mix the values.
The numbers come from ``core.explain.qkv`` (the layer's own projections) in a thread worker.
"""
from __future__ import annotations

from typing import Any, Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from core.errors import UserError
from tui.widgets.heatmap import token_label

SHOWN_DIMS = 6  # vector entries printed; the sums use all of them


def vector(values: list[float]) -> str:
    shown = ", ".join(f"{v:+.2f}" for v in values[:SHOWN_DIMS])
    return f"[{shown}{', ...' if len(values) > SHOWN_DIMS else ''}] ({len(values)} numbers)"


def qkv_lines(cell: Any, shown_weight: float | None = None) -> list[str]:
    """The panel's text for a core.explain.qkv.QKVCell."""
    q_tok, k_tok = token_label(cell.tokens[cell.query]), token_label(cell.tokens[cell.key])
    lines = [
        f"Layer {cell.layer + 1}, head {cell.head + 1}: how {q_tok!r} (the query) attends to {k_tok!r} (the key)",
        "",
        f"Query q({q_tok}) - the question {q_tok!r} asks:      {vector(cell.q)}",
        f"Key   k({k_tok}) - the answer {k_tok!r} offers:      {vector(cell.k)}",
        f"q . k = {cell.dot:+.4f}   scaled by sqrt(d) = sqrt({len(cell.q)}) = {cell.scale:.3f}:  "
        f"{cell.dot:+.4f} / {cell.scale:.3f} = {cell.scaled:+.4f}",
        "",
        f"softmax over the row (every key {q_tok!r} can look at): weight = e^score / sum of e^scores",
    ]
    order = sorted(range(len(cell.tokens)), key=lambda j: -cell.weights[j])
    for j in order:
        marker = "->" if j == cell.key else "  "
        lines.append(f" {marker} {token_label(cell.tokens[j])[:14]:<14} score {cell.scores[j]:+.4f}  weight {cell.weights[j]:.4f}")
    check = "" if shown_weight is None else f" (the heatmap shows {shown_weight:.4f})"
    lines += [
        f"weight of {k_tok!r} = {cell.weight:.4f}{check}",
        "",
        f"Value v - the information each word brings; the head's output for {q_tok!r} is sum of weight x v:",
    ]
    lines += [f"   {cell.weights[j]:.3f} x v({token_label(cell.tokens[j])[:14]})" for j in order[:3]]
    if len(order) > 3:
        lines.append(f"   + {len(order) - 3} more")
    lines.append(f"   = {vector(cell.output)}")
    return lines


class QKVScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,v,q", "close", "Close")]

    class Computed(Message):
        def __init__(self, cell: Any) -> None:
            super().__init__()
            self.cell = cell

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, text: str, provider: Callable[[], Any], layer: int, head: int, query: int, key: int,
                 shown_weight: float | None = None) -> None:
        super().__init__()
        self.text, self.provider = text, provider
        self.where = (layer, head, query, key)
        self.shown_weight = shown_weight
        self.cell: Any = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="qkv-body"):
            yield Static("computing the query, key and value vectors ...", id="qkv-text", markup=False)
            yield Static("Escape closes this panel.", id="qkv-hint")

    def on_mount(self) -> None:
        self._compute()

    @work(thread=True, exclusive=True, exit_on_error=False, group="qkv")
    def _compute(self) -> None:
        from core.explain.qkv import qkv_cell

        try:
            clf = self.provider()
            cell = qkv_cell(clf, clf.encode(self.text), *self.where)
        except (UserError, IndexError) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - shown in the panel
            self.post_message(self.Failed(f"cannot compute Q/K/V: {type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Computed(cell))

    def on_qkvscreen_computed(self, message: Computed) -> None:
        self.cell = message.cell
        self.query_one("#qkv-text", Static).update("\n".join(qkv_lines(message.cell, self.shown_weight)))

    def on_qkvscreen_failed(self, message: Failed) -> None:
        self.query_one("#qkv-text", Static).update(message.message)

    def action_close(self) -> None:
        self.dismiss(None)
