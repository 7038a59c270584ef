"""A text with one score per token, drawn inline: a background shade and, under each token, a
glyph scale, so the ranking reads with NO_COLOR too.

Positive scores (for the class explained) are green and ``+▁`` .. ``+█``; negative ones red and
``-▁`` .. ``-█``; the length of the bar is the score over the text's largest magnitude.
"""
from __future__ import annotations

from typing import Sequence

from rich.color import Color
from rich.style import Style
from rich.text import Text

from core.explanation import normalised
from tui.widgets.heatmap import token_label

BARS = "▁▂▃▄▅▆▇█"
_FOR = (40, 150, 70)  # green: evidence for the class
_AGAINST = (190, 50, 50)  # red: evidence against
_BACK = (20, 20, 20)


def glyph(score: float) -> str:
    """'+▆' / '-▂' for a score in [-1, 1]; '  ' for (near) zero."""
    if abs(score) < 0.5 / len(BARS):
        return "  "
    level = min(len(BARS) - 1, int(abs(score) * len(BARS)))
    return ("+" if score > 0 else "-") + BARS[level]


def shade(score: float) -> Style:
    rgb = _FOR if score > 0 else _AGAINST
    a = min(1.0, abs(score))
    mixed = tuple(int(b + (c - b) * a) for b, c in zip(_BACK, rgb))
    return Style(bgcolor=Color.from_rgb(*mixed), color="white" if a > 0.35 else None, bold=a > 0.75)


def attribution_lines(tokens: Sequence[str], scores: Sequence[float], width: int,
                      cursor: int | None = None) -> Text:
    """Token rows and glyph rows, wrapped at ``width`` columns; ``cursor`` underlines one token."""
    levels = normalised(list(scores))
    rows: list[tuple[Text, Text]] = [(Text(), Text())]
    used = 0
    for i, (token, level) in enumerate(zip(tokens, levels)):
        label = token_label(token)
        cell = max(len(label), 2)
        if used and used + cell + 1 > width:
            rows.append((Text(), Text()))
            used = 0
        top, bottom = rows[-1]
        top.append(label.ljust(cell), style=shade(level) + (Style(underline=True) if i == cursor else Style()))
        top.append(" ")
        bottom.append(glyph(level).ljust(cell) + " ")
        used += cell + 1
    return Text("\n").join(line for pair in rows for line in pair)
