"""The pipeline tasks the console runs: names, aliases, extra inputs, defaults.

Each task's spec lives with its runner (``core.hf.pipelines.runners``); this module resolves
names and checks parameters. No torch, no transformers: the console lists tasks and renders
their fields without loading anything. Each task says whether it runs on a transformers pipeline
(``native``) or on the workbench's own implementation, needed because transformers 5 removed
translation, summarization, text2text-generation (5.0) and question-answering (5.3).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from core.errors import UserError
from core.hf.pipelines.spec import TaskField, TaskSpec

__all__ = ["ALIASES", "TASKS", "ResolvedTask", "TaskField", "TaskSpec", "check_params", "resolve_task",
           "task_fields", "task_names"]


def _specs() -> dict[str, TaskSpec]:
    from core.hf.pipelines.runners import RUNNERS

    return {name: runner.spec for name, runner in RUNNERS.items()}


TASKS: dict[str, TaskSpec] = _specs()
ALIASES: dict[str, str] = {"sentiment-analysis": "text-classification", "ner": "token-classification"}
_TRANSLATION_RE = re.compile(r"^translation_([a-zA-Z-]+)_to_([a-zA-Z-]+)$")


def task_names() -> list[str]:
    """Every name the console accepts: tasks, then aliases, then an example translation_xx_to_yy."""
    return [*TASKS, *ALIASES, "translation_en_to_fr"]


@dataclass(frozen=True)
class ResolvedTask:
    spec: TaskSpec
    # Parameters implied by the name itself (translation_en_to_fr -> src_lang/tgt_lang).
    implied: dict = field(default_factory=dict)


def resolve_task(name: str) -> ResolvedTask:
    """Map a task name or alias to its spec; a wrong name suggests the closest ones."""
    key = (name or "").strip().lower().replace(" ", "-")
    if not key:
        raise UserError("no task given", f"choose one of: {', '.join(task_names())}")
    key = ALIASES.get(key, key)
    if key in TASKS:
        return ResolvedTask(TASKS[key])
    match = _TRANSLATION_RE.match(key)
    if match:
        return ResolvedTask(TASKS["translation"], {"src_lang": match.group(1), "tgt_lang": match.group(2)})
    close = difflib.get_close_matches(key, task_names(), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else f"choose one of: {', '.join(task_names())}"
    raise UserError(f"unknown task {name!r}", hint)


def task_fields(task: str) -> list[TaskField]:
    """The extra inputs of a task, for the console to render (the main prompt is not included)."""
    return list(resolve_task(task).spec.fields)


def check_params(spec: TaskSpec, params: dict) -> None:
    allowed = spec.param_names()
    if "trust_remote_code" in params:
        # Running a model's own code is the user's explicit decision, never a task parameter.
        raise UserError("trust_remote_code is not a task parameter",
                        "to run code shipped with a model, pass --trust-remote-code to twb pipeline")
    for key in params:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]}?" if close else (
                f"{spec.name} takes: {', '.join(allowed)}" if allowed else f"{spec.name} takes no parameters")
            raise UserError(f"unknown parameter {key!r} for {spec.name}", hint)
    for f in spec.fields:
        if f.required and params.get(f.name) in (None, "", [], ()):
            raise UserError(f"{spec.name} needs {f.label.lower()} ({f.name})", f.help)
