"""Hugging Face pipelines for the console: every task of the tutorial on current transformers.

Importing this package is cheap (no torch, no transformers): models load on first use.

    from core.hf.pipelines import run_task
    run_task("sentiment-analysis", None, "I love this")       # [{'label': 'POSITIVE', 'score': ...}]
    run_task("translation_en_to_fr", "Helsinki-NLP/opus-mt-en-fr", "Hello")  # [{'translation_text': ...}]
    run_task("question-answering", folder, "Where?", {"context": "..."})      # {'answer', 'score', 'start', 'end'}
"""
from core.hf.pipelines.engine import PipelineCancelled, PipelineRun, format_result, run_pipeline, run_task
from core.hf.pipelines.loading import clear_cache
from core.hf.pipelines.models import LocalModel, ModelRef, is_offline, list_local_models, resolve_model
from core.hf.pipelines.tasks import ALIASES, TASKS, TaskField, TaskSpec, resolve_task, task_fields, task_names

__all__ = [
    "ALIASES", "LocalModel", "ModelRef", "PipelineCancelled", "PipelineRun", "TASKS", "TaskField", "TaskSpec",
    "clear_cache", "format_result", "is_offline", "list_local_models", "resolve_model", "resolve_task", "run_pipeline",
    "run_task", "task_fields", "task_names",
]
