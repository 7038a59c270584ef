"""The console pane's only contact with ``core.hf.pipelines``.

Kept small and data-driven so the pipelines engine can grow tasks without touching the UI:
a task's extra inputs (QA context, translation languages, generation length, top-k ...) come
from ``core.hf.pipelines.tasks.task_fields(task)`` and are rendered generically by the pane.
Nothing here imports transformers; ``run`` is called from a worker thread.
"""
from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from typing import Any

from core.hf.pipelines import tasks
from core.hf.pipelines.tasks import TaskField

# A task's extra input as the console renders it: the engine's own description, not a copy.
ParamField = TaskField


def unavailable_reason() -> str | None:
    """None when pipelines can run; otherwise why not, in one line (checked without importing)."""
    missing = [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
    if missing:
        return f"pipelines not available: {' and '.join(missing)} not installed (pip install {' '.join(missing)})"
    return None


def task_names() -> list[str]:
    return tasks.task_names()


def input_label(task: str) -> str:
    return tasks.resolve_task(task).spec.input_label


def task_summary(task: str) -> str:
    return tasks.resolve_task(task).spec.summary


def param_fields(task: str) -> list[ParamField]:
    return tasks.task_fields(task)


def local_models() -> list[str]:
    """Names/paths of models usable offline, for the model field's suggestions."""
    from core.hf.pipelines import list_local_models

    found = list_local_models()
    return [m.name for m in found] + [m.path for m in found if m.path != m.name]


def parse_param(field: ParamField, text: str) -> Any:
    """A typed value from what the user typed; ValueError names the field and what it expects."""
    text = text.strip()
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{field.label}: expected a whole number, got {text!r}") from None
    if field.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{field.label}: expected a number, got {text!r}") from None
    if field.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


@dataclass(frozen=True)
class Outcome:
    result: Any
    notices: tuple[str, ...] = ()
    detail: str = ""  # which model and implementation ran, and how long it took
    cancelled: bool = False
    text: str = ""  # the result as the task's runner formats it


def run(task: str, model: str | None, prompt: str, params: dict[str, Any], cancel=None, *,
        trust_remote_code: bool = False) -> Outcome:
    """Run one prompt (blocking: call from a worker). ``cancel``: a threading.Event."""
    from core.hf.pipelines import PipelineCancelled, run_pipeline

    try:
        ran = run_pipeline(task, model or None, prompt, params or None, cancel=cancel,
                           trust_remote_code=trust_remote_code)
    except PipelineCancelled:
        return Outcome(None, cancelled=True)
    return Outcome(ran.result, tuple(ran.notices), f"{ran.model} ({ran.implementation}, {ran.seconds:.1f} s)",
                   text=ran.text)


def format_result(result: Any, task: str | None = None) -> str:
    """Plain, readable text for the history. With the task: its runner's format; without (a
    recorded result of unknown task): guessed from the result's shape."""
    if task is not None:
        from core.hf.pipelines import format_result as task_format

        return task_format(task, result)
    if isinstance(result, list) and result and all(isinstance(r, dict) for r in result):
        lines = []
        for r in result:
            if "label" in r and "score" in r:
                lines.append(f"{r['label']}: {r['score']:.4f}")
            elif "generated_text" in r or "translation_text" in r or "summary_text" in r:
                lines.append(str(r.get("generated_text") or r.get("translation_text") or r.get("summary_text")))
            elif ("entity_group" in r or "entity" in r) and "word" in r:
                lines.append(f"{r['word']} -> {r.get('entity_group') or r.get('entity')}: {r.get('score', 0):.4f}")
            elif "token_str" in r and "score" in r:
                lines.append(f"{r['token_str']!r}: {r['score']:.4f}")
            elif "answer" in r and "score" in r:
                lines.append(f"{r['answer'] or '(no answer)'} (score {r['score']:.4f})")
            else:
                lines.append(json.dumps(r, ensure_ascii=False, default=str))
        return "\n".join(lines)
    if isinstance(result, dict) and "shape" in result and "tokens" in result:  # feature-extraction
        shape = "x".join(str(n) for n in result["shape"])
        return f"hidden states {shape}: {' '.join(result['tokens'])}"
    if isinstance(result, dict) and "labels" in result and "scores" in result:  # zero-shot
        return "\n".join(f"{label}: {score:.4f}" for label, score in zip(result["labels"], result["scores"]))
    if isinstance(result, dict) and "answer" in result:
        return f"{result['answer']} (score {result.get('score', 0):.4f})"
    return json.dumps(result, ensure_ascii=False, indent=1, default=str)
