"""The console's one entry point: run a task with a model on an input, get plain results.

``run_pipeline`` returns a ``PipelineRun`` (result, notices such as truncation, which
implementation ran); ``run_task`` returns only the result. Both block: callers run them in a
worker thread and may pass a ``threading.Event`` to cancel (checked between loading and running,
and at every generated token). Every error a user can cause is a one-line ``UserError``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from core.errors import UserError
from core.hf.pipelines.models import ModelRef, resolve_model
from core.hf.pipelines.tasks import ResolvedTask, check_params, resolve_task

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
    """
    started = time.perf_counter()
    resolved = resolve_task(task)
    spec = resolved.spec
    # None or "" means "not given" (the console sends its empty fields): the task name's
    # implied values (translation_en_to_fr) and the model's defaults then apply.
    params = {**resolved.implied, **{k: v for k, v in (params or {}).items() if v is not None and v != ""}}
    trust_remote_code = bool(params.pop("trust_remote_code", False)) or trust_remote_code
    if spec.name == "question-answering" and isinstance(inputs, dict):
        params.setdefault("context", inputs.get("context"))
        inputs = inputs.get("question")
    _check_inputs(spec.name, spec.input_label, inputs)
    check_params(spec, params)
    ref = resolve_model(model, spec.default_model)
    notices: list[str] = []
    try:
        runner, implementation = _load(resolved, ref, trust_remote_code)
        _check_cancel(cancel)
        if isinstance(inputs, list):
            result = [runner(text, params, notices, cancel) for text in inputs]
        else:
            result = runner(inputs, params, notices, cancel)
        _check_cancel(cancel)
    except (UserError, PipelineCancelled):
        raise
    except Exception as exc:  # the model's own code failed on this input: report, never crash the console
        log.debug("%s with %s failed", spec.name, ref.name, exc_info=True)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{spec.name} with {ref.name!r} failed: {first}",
                        "check that the model suits this task and the input") from exc
    return PipelineRun(spec.name, ref.name, result, tuple(dict.fromkeys(notices)), implementation,
                       time.perf_counter() - started)


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


def _load(resolved: ResolvedTask, ref: ModelRef, trust_remote_code: bool):
    """Load (or fetch from the cache) what runs the task; returns (runner, implementation)."""
    spec = resolved.spec
    from core.hf.pipelines.native import native_task_available

    if spec.native:
        from core.hf.pipelines.native import load_pipeline, run_native

        loaded = load_pipeline(spec.hf_task, ref, trust_remote_code)

        def run(text, params, notices, cancel):
            notices.extend(loaded.notices)
            return run_native(spec, loaded.pipe, ref, text, params, notices, cancel)

        return run, "transformers"
    if native_task_available(spec.hf_task):
        return _legacy_native(spec, ref, trust_remote_code), "transformers"
    if spec.name == "question-answering":
        from core.hf.pipelines.qa import answer, load_qa

        bundle = load_qa(ref, trust_remote_code)

        def run_qa(text, params, notices, cancel):
            notices.extend(bundle.notices)
            return answer(bundle, text, params.get("context") or "", int(params.get("max_answer_len") or 15), notices)

        return run_qa, "workbench"
    from core.hf.pipelines.seq2seq import load_seq2seq, run_seq2seq

    bundle = load_seq2seq(ref, trust_remote_code)

    def run_generation(text, params, notices, cancel):
        notices.extend(bundle.notices)
        return run_seq2seq(bundle, spec.name, ref, text, params, notices, cancel)

    return run_generation, "workbench"


def _legacy_native(spec, ref: ModelRef, trust_remote_code: bool):
    """transformers 4.x still ships translation/summarization/text2text/QA pipelines: use them."""
    from core.hf.pipelines.native import load_pipeline
    from core.hf.pipelines.text_limits import to_plain

    def run(text, params, notices, cancel):
        kwargs = {k: v for k, v in params.items() if v is not None}
        hf_task = spec.hf_task
        if spec.name == "translation" and kwargs.get("src_lang") and kwargs.get("tgt_lang"):
            hf_task = f"translation_{kwargs.pop('src_lang')}_to_{kwargs.pop('tgt_lang')}"
        loaded = load_pipeline(hf_task, ref, trust_remote_code)
        notices.extend(loaded.notices)
        pipe = loaded.pipe
        if spec.name == "question-answering":
            return to_plain(pipe(question=text, context=kwargs.pop("context"), **kwargs))
        return to_plain(pipe(text, truncation=True, **kwargs))

    return run
