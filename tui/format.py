"""Numbers as a person reads them in a status line."""
from __future__ import annotations

from core.printer import format_bytes, format_duration


def duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    return format_duration(seconds)


def size(num_bytes: int | None) -> str:
    return "n/a" if num_bytes is None else format_bytes(num_bytes)


def rate(per_second: float) -> str:
    if per_second >= 10_000:
        return f"{per_second / 1000:,.0f}k"
    return f"{per_second:,.0f}"


def count(n: int) -> str:
    return f"{n:,}"
