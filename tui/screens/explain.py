"""The explanation view: which tokens drove the prediction, by three methods, and how faithful each is.

Opened from the attention pane (x in the heatmap, ctrl+t anywhere) for the sentence on show.
A thread worker gets the model the pane uses (a snapshot of the one being trained, a checkpoint,
or a Hugging Face classifier folder) and computes an ``Explanation``; the text is drawn with
each token shaded and a glyph scale under it, the readout lists the numbers. A recorded
explanation (session replay) is shown as it was, without a model.
"""
from __future__ import annotations

from typing import Any, Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from core.errors import UserError
from core.explanation import INTEGRATED_GRADIENTS, METHOD_NAMES, METHODS, Explanation
from tui.widgets.attributions import attribution_lines, glyph
from tui.widgets.heatmap import token_label

ExplainableProvider = Callable[[], Any]  # called in the worker: returns a core.explain Explainable
STEP_CHOICES = (10, 25, 50, 100, 200, 400)
READOUT_TOKENS = 8  # the highest-ranked tokens listed with their numbers

METHOD_HELP = {
    INTEGRATED_GRADIENTS: "sums the gradients along the path from a padding baseline; they add up to f(x) - f(baseline)",
    "grad_x_input": "gradient of the class's logit times the token's embedding: one backward pass",
    "rollout": "attention through the layers with the residual (Abnar & Zuidema): what the pooled vector holds of each token",
}


def explainable_for(model_ref: str, snapshot: Callable[[], Any], cache: dict[str, Any]) -> Any:
    """The classifier the attention pane looks at: the training model's snapshot (empty ref), a
    checkpoint or a Hugging Face folder."""
    from core.explain.classifiers import explainable_at, workbench_explainable

    if not model_ref:
        snap = snapshot()
        if snap is None:
            raise UserError("no model to explain yet",
                            "start training (F6), or type a checkpoint folder or a Hugging Face classifier folder in the model field")
        return workbench_explainable(snap)
    return explainable_at(model_ref, cache)


def faithfulness_lines(e: Explanation) -> list[str]:
    lines = []
    for method in METHODS:
        f = e.faithfulness.get(method)
        if f is not None:
            lines.append(f"  {METHOD_NAMES[method]:<21} comprehensiveness {f.comprehensiveness:+.3f}  "
                         f"sufficiency {f.sufficiency:+.3f}")
    if lines:
        k = next(iter(e.faithfulness.values())).k
        lines.insert(0, f"Faithfulness, top {k} token{'s' * (k > 1)} (drop in p({e.target}) when removed / when kept alone):")
    return lines


def readout_lines(e: Explanation, method: str, cursor: int) -> list[str]:
    """The numbers: the method's top tokens, the cursor token under every method, IG's delta."""
    lines = [f"{METHOD_NAMES[method]}: {METHOD_HELP[method]}"]
    if method == INTEGRATED_GRADIENTS and e.delta is not None:
        total = sum(e.scores[method])
        lines.append(f"  {e.steps} steps · scores sum to {total:+.4f} · convergence delta {e.delta:+.4f} "
                     f"(completeness: f(x) - f(baseline) = {total - e.delta:+.4f})")
    row = e.scores[method]
    top = ", ".join(f"{token_label(e.tokens[i])} {row[i]:+.3f}" for i in e.ranked(method)[:READOUT_TOKENS])
    lines.append(f"  top: {top}")
    if 0 <= cursor < len(e.tokens):
        each = " · ".join(f"{METHOD_NAMES[m]} {e.scores[m][cursor]:+.3f}" for m in METHODS if m in e.scores)
        lines.append(f"  cursor {token_label(e.tokens[cursor])!s}: {each}")
    return lines


class ExplainScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("m", "method(1)", "Method"),
        Binding("M", "method(-1)", "Prev method", show=False),
        Binding("c", "next_class", "Class"),
        Binding("plus,equals_sign", "steps(1)", "More steps"),
        Binding("minus", "steps(-1)", "Fewer steps", show=False),
        Binding("left", "cursor(-1)", "Token left", show=False),
        Binding("right", "cursor(1)", "Token right", show=False),
    ]

    class Explained(Message):
        """An explanation was computed and is on show (the app records it)."""

        def __init__(self, explanation: Explanation) -> None:
            super().__init__()
            self.explanation = explanation

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, text: str = "", provider: ExplainableProvider | None = None,
                 explanation: Explanation | None = None,
                 on_explained: Callable[[Explanation], Any] | None = None) -> None:
        super().__init__()
        self.on_explained = on_explained  # e.g. the session recorder's; called on the UI thread
        self.text = text or (explanation.text if explanation else "")
        self.provider = provider  # None: a recorded explanation, nothing to recompute
        self.explanation = explanation
        self.target: str | None = None  # None: the predicted class
        self.steps = explanation.steps if explanation and explanation.steps else 50
        self.method = next((m for m in METHODS if explanation and m in explanation.scores), INTEGRATED_GRADIENTS)
        self.cursor = 0
        self.error = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="explain-body"):
            yield Static("", id="explain-header", markup=False)
            yield Static("", id="explain-text")
            yield Static("", id="explain-readout", markup=False)
            yield Static("", id="explain-faith", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.explanation is not None:
            self.show(self.explanation)
        else:
            self._recompute()

    def on_resize(self) -> None:
        if self.explanation is not None:
            self.show(self.explanation)

    # --- computing -----------------------------------------------------------------------

    def _recompute(self) -> None:
        if self.provider is None:
            return
        self.query_one("#explain-header", Static).update(
            f"explaining {self.text!r} ({self.steps} Integrated Gradients steps) ...")
        self._compute(self.text, self.target, self.steps)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain")
    def _compute(self, text: str, target: str | None, steps: int) -> None:
        from core.explain.text import explain_text
        from core.training.devices import beside_training

        try:  # at low priority: a run training meanwhile keeps its speed
            explanation = beside_training(explain_text, self.provider(), text, target=target, steps=steps)
        except UserError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - shown on the screen; the app keeps running
            self.post_message(self.Failed(f"cannot explain: {type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Explained(explanation))

    def on_explain_screen_explained(self, message: Explained) -> None:
        message.stop()
        self.show(message.explanation)
        if self.on_explained is not None:
            self.on_explained(message.explanation)

    def on_explain_screen_failed(self, message: Failed) -> None:
        message.stop()
        self.error = message.message
        self.query_one("#explain-header", Static).update(message.message)

    # --- drawing ---------------------------------------------------------------------------

    def show(self, e: Explanation) -> None:
        self.explanation, self.error = e, ""
        if self.method not in e.scores and e.scores:
            self.method = next(m for m in METHODS if m in e.scores)
        self.cursor = min(self.cursor, len(e.tokens) - 1)
        probs = " ".join(f"{label} {p:.2f}" for label, p in e.prediction.items())
        chosen = "" if e.target == e.predicted else f" · explaining {e.target} (c: next class)"
        cut = f"\n{e.truncated} tokens cut off the end: the model takes no more" if e.truncated else ""
        self.query_one("#explain-header", Static).update(
            f"{e.source} predicts {e.predicted} ({probs}){chosen}\n"
            f"method {METHODS.index(self.method) + 1}/{len(METHODS)}: {METHOD_NAMES[self.method]} (m) · "
            f"green/+ for {e.target}, red/- against{cut}")
        width = max(20, self.size.width - 4)
        text = self.query_one("#explain-text", Static)
        readout = self.query_one("#explain-readout", Static)
        if self.method in e.scores:
            text.update(attribution_lines(e.tokens, e.scores[self.method], width, self.cursor))
            readout.update("\n".join(readout_lines(e, self.method, self.cursor)))
        else:
            text.update(" ".join(token_label(t) for t in e.tokens))
            readout.update(f"{METHOD_NAMES[self.method]}: not available: {e.unavailable.get(self.method, '')}")
        notes = [f"{METHOD_NAMES[m]} not available: {why}" for m, why in e.unavailable.items() if m != self.method]
        self.query_one("#explain-faith", Static).update("\n".join(faithfulness_lines(e) + notes))

    def glyph_at(self, position: int) -> str:
        """The glyph under a token (what a NO_COLOR terminal shows); for tests and captures."""
        from core.explanation import normalised

        return glyph(normalised(self.explanation.scores[self.method])[position])

    # --- keys ----------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_method(self, step: int) -> None:
        self.method = METHODS[(METHODS.index(self.method) + step) % len(METHODS)]
        if self.explanation is not None:
            self.show(self.explanation)

    def action_cursor(self, step: int) -> None:
        if self.explanation is not None:
            self.cursor = max(0, min(len(self.explanation.tokens) - 1, self.cursor + step))
            self.show(self.explanation)

    def action_next_class(self) -> None:
        e = self.explanation
        if e is None or self.provider is None:
            return
        names = list(e.prediction)
        self.target = names[(names.index(e.target) + 1) % len(names)]
        self._recompute()

    def action_steps(self, step: int) -> None:
        if self.provider is None:
            return
        index = min(range(len(STEP_CHOICES)), key=lambda i: abs(STEP_CHOICES[i] - self.steps))
        self.steps = STEP_CHOICES[max(0, min(len(STEP_CHOICES) - 1, index + step))]
        self._recompute()
