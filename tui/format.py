"""Numbers as a person reads them in a status line."""
from __future__ import annotations

from core.formatting import format_bytes as size, format_duration as duration  # noqa: F401  (one definition)


def rate(per_second: float) -> str:
    if per_second >= 10_000:
        return f"{per_second / 1000:,.0f}k"
    return f"{per_second:,.0f}"


def count(n: int) -> str:
    return f"{n:,}"
