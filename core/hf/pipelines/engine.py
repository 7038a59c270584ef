"""The console's one entry point: run a task with a model on an input, get plain results.

``run_pipeline`` returns a ``PipelineRun`` (result, notices such as truncation, which
implementation ran, the result as text); ``run_task`` returns only the result. Both block:
callers run them in a worker thread and may pass a ``threading.Event`` to cancel (checked
between loading and running, and at every generated token). Every error a user can cause is a
one-line ``UserError``. What runs a task is its runner, looked up by name in
``core.hf.pipelines.runners``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from core.errors import UserError
from core.hf.pipelines.models import resolve_model
from core.hf.pipelines.runners import RUNNERS
from core.hf.pipelines.tasks import check_params, resolve_task

log = logging.getLogger(__name__)


class PipelineCancelled(Exception):
    """The caller set the cancel event; the result was discarded."""


@dataclass(frozen=True)
class PipelineRun:
    task: str  # canonical task name
    model: str  # the model that ran (hub id or folder)
    result: Any  # plain JSON data in the transformers-4 shape
    notices: tuple[str, ...]  # things the user should know (input truncated, ...)
    implementation: str  # "transformers" (native pipeline) or "workbench"
    seconds: float
    text: str = ""  # the result as the console shows it


def run_task(task: str, model: str | None = None, inputs: Any = None, params: dict | None = None, *,
             trust_remote_code: bool = False, cancel: threading.Event | None = None) -> Any:
    """Run and return only the result (see run_pipeline)."""
    return run_pipeline(task, model, inputs, params, trust_remote_code=trust_remote_code, cancel=cancel).result


def run_pipeline(task: str, model: str | None = None, inputs: Any = None, params: dict | None = None, *,
                 trust_remote_code: bool = False, cancel: threading.Event | None = None) -> PipelineRun:
    """Run `task` with `model` (hub id, folder, or None for the task's default) on `inputs`.

    inputs: a string (an image path for image-classification, the question for
    question-answering), a list of strings (one result each), or for question-answering a dict
    {'question', 'context'}. params: the task's fields (tasks.task_fields) and extra parameters.
    Remote code runs only with trust_remote_code=True, never through params.
    """
    started = time.perf_counter()
    resolved = resolve_task(task)
    spec = resolved.spec
    runner_class = RUNNERS[spec.name]
    # None or "" means "not given" (the console sends its empty fields): the task name's
    # implied values (translation_en_to_fr) and the model's defaults then apply.
    params = {**resolved.implied, **{k: v for k, v in (params or {}).items() if v is not None and v != ""}}
    inputs, params = runner_class.split_inputs(inputs, params)
    _check_inputs(spec.name, spec.input_label, inputs)
    check_params(spec, params)
    ref = resolve_model(model, spec.default_model)
    try:
        runner = runner_class(ref, trust_remote_code).load()
        _check_cancel(cancel)
        if isinstance(inputs, list):
            outputs = [runner.run(text, params, cancel) for text in inputs]
            result = runner_class.combine([o.result for o in outputs])
            notices = [n for o in outputs for n in o.notices]
        else:
            output = runner.run(inputs, params, cancel)
            result, notices = output.result, list(output.notices)
        _check_cancel(cancel)
        text = runner_class.format(result) if not isinstance(inputs, list) else "\n".join(
            runner_class.format(o.result) for o in outputs)
    except (UserError, PipelineCancelled):
        raise
    except Exception as exc:  # the model's own code failed on this input: report, never crash the console
        log.debug("%s with %s failed", spec.name, ref.name, exc_info=True)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{spec.name} with {ref.name!r} failed: {first}",
                        "check that the model suits this task and the input") from exc
    return PipelineRun(spec.name, ref.name, result, tuple(dict.fromkeys(notices)), runner_class.implementation,
                       time.perf_counter() - started, text)


def format_result(task: str, result: Any) -> str:
    """A result of task as the console shows it (the runner's own format)."""
    return RUNNERS[resolve_task(task).spec.name].format(result)


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise PipelineCancelled()


def _check_inputs(task: str, label: str, inputs: Any) -> None:
    items = inputs if isinstance(inputs, list) else [inputs]
    if not items:
        raise UserError(f"{task} got an empty list of inputs", f"give at least one {label.lower()}")
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise UserError(f"{task} needs a {label.lower()}: the input is empty", f"type a {label.lower()} first")
