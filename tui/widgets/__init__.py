"""Reusable widgets (their CSS is in DEFAULT_CSS; app layout lives in .tcss files)."""
