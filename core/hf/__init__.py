"""Hugging Face models: pipelines, attention, the exported classifier."""
