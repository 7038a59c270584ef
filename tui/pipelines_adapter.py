"""The console pane's only contact with ``core.hf.pipelines``.

Kept small and data-driven so the pipelines engine can grow tasks without touching the UI:
a task's extra inputs (QA context, translation languages, generation length, top-k ...) come
from ``core.hf.pipelines.tasks.task_fields(task)`` and are rendered generically by the pane.
Nothing here imports transformers; ``run`` is called from a worker thread.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.hf.pipelines.tasks import TaskField


# A task's extra input as the console renders it: the engine's own description, not a copy.
ParamField = TaskField


def unavailable_reason() -> str | None:
    """None when pipelines can run; otherwise why not, in one line."""
    try:
        from core.hf.pipelines import TASKS, run_task  # noqa: F401
    except ImportError as exc:
        return f"pipelines not available ({exc}); the console will work once core.hf.pipelines provides run_task and TASKS"
    return None


def task_names() -> list[str]:
    try:
        from core.hf.pipelines.tasks import task_names as names
        return list(names())
    except ImportError:
        try:
            from core.hf.pipelines import TASKS
            return list(TASKS)
        except ImportError:
            return []


def input_label(task: str) -> str:
    try:
        from core.hf.pipelines.tasks import resolve_task
        return resolve_task(task).spec.input_label
    except Exception:  # noqa: BLE001 - an unknown task just gets the generic label
        return "Prompt"


def task_summary(task: str) -> str:
    try:
        from core.hf.pipelines.tasks import resolve_task
        return resolve_task(task).spec.summary
    except Exception:  # noqa: BLE001
        return ""


def param_fields(task: str) -> list[ParamField]:
    try:
        from core.hf.pipelines.tasks import task_fields
        found = task_fields(task)
    except Exception:  # noqa: BLE001 - no pipelines yet, or an unknown task: no extra inputs
        return []
    return list(found)


def local_models() -> list[str]:
    """Names/paths of models usable offline, for the model field's suggestions."""
    try:
        from core.hf.pipelines import list_local_models
        found = list_local_models()
    except Exception:  # noqa: BLE001 - suggestions are a convenience
        return []
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


def run(task: str, model: str | None, prompt: str, params: dict[str, Any], cancel=None) -> Outcome:
    """Run one prompt (blocking: call from a worker). ``cancel``: a threading.Event."""
    try:
        from core.hf.pipelines import PipelineCancelled, run_pipeline
    except ImportError:
        from core.hf.pipelines import run_task
        return Outcome(run_task(task, model or None, prompt, params or None))
    try:
        ran = run_pipeline(task, model or None, prompt, params or None, cancel=cancel)
    except PipelineCancelled:
        return Outcome(None, cancelled=True)
    return Outcome(ran.result, tuple(ran.notices), f"{ran.model} ({ran.implementation}, {ran.seconds:.1f} s)")


def format_result(result: Any) -> str:
    """Plain, readable text for the history: labels with scores, generated text, or JSON."""
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
