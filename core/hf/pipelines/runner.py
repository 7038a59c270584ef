"""One runner class per task, after transformers' ``Pipeline``: load, preprocess, forward,
postprocess, format. Runners register themselves by task name; the engine looks them up.

A runner returns its notices (input truncated, head initialised randomly, ...) with its result
in a ``TaskOutput``: nothing is appended to a caller's list.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from core.hf.pipelines.models import ModelRef
from core.hf.pipelines.spec import TaskSpec


@dataclass(frozen=True)
class Prepared:
    """What preprocess hands to forward, and what it had to tell the user."""

    inputs: Any
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskOutput:
    result: Any  # plain JSON data in the transformers-4 shape
    notices: tuple[str, ...] = ()


class TaskRunner:
    """Runs one task with one model. Subclasses set ``spec`` and implement the four steps."""

    spec: ClassVar[TaskSpec]
    order: ClassVar[int] = 100  # position in the console's task list
    implementation: ClassVar[str] = "workbench"  # or "transformers": its own pipeline runs

    def __init__(self, ref: ModelRef, trust_remote_code: bool = False):
        self.ref = ref
        self.trust_remote_code = trust_remote_code
        self.load_notices: tuple[str, ...] = ()  # said on every run (a randomly initialised head)

    def load(self) -> "TaskRunner":
        """Load the model (loaders cache it: a second runner for the same model is cheap)."""
        return self

    @classmethod
    def split_inputs(cls, inputs: Any, params: dict) -> tuple[Any, dict]:
        """The main input and parameters from what the caller passed (QA's {'question', 'context'})."""
        return inputs, params

    def preprocess(self, text: str, params: dict) -> Prepared:
        return Prepared(text)

    def forward(self, inputs: Any, params: dict, cancel: threading.Event | None) -> Any:
        raise NotImplementedError

    def postprocess(self, raw: Any, params: dict) -> Any:
        return raw

    def run(self, text: str, params: dict, cancel: threading.Event | None = None) -> TaskOutput:
        prepared = self.preprocess(text, params)
        raw = self.forward(prepared.inputs, params, cancel)
        return TaskOutput(self.postprocess(raw, params), self.load_notices + prepared.notices)

    @classmethod
    def combine(cls, results: list[Any]) -> Any:
        """The result of a list of inputs: one result each."""
        return results

    @classmethod
    def format(cls, result: Any) -> str:
        """Plain, readable text for the console's history."""
        return json.dumps(result, ensure_ascii=False, indent=1, default=str)


REGISTRY: dict[str, type[TaskRunner]] = {}


def register(cls: type[TaskRunner]) -> type[TaskRunner]:
    """Class decorator: make cls the runner of its task."""
    name = cls.spec.name
    if name in REGISTRY and REGISTRY[name] is not cls:
        raise AssertionError(f"two runners for task {name}: {REGISTRY[name].__name__} and {cls.__name__}")
    REGISTRY[name] = cls
    return cls


def label_lines(result: list[dict]) -> str:
    """label: score, one a line (classification results)."""
    return "\n".join(f"{r['label']}: {r['score']:.4f}" for r in result)
