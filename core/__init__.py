"""Transformer Workbench engine: config, data, model, training, attention, pipelines, sessions.

Importable and testable without a terminal: nothing under core/ imports textual or rich.
"""
