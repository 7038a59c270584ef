"""Transformer Workbench terminal UI. Importing this package imports nothing heavy:
the `twb` entry point (tui.cli) decides whether Textual is needed at all."""
