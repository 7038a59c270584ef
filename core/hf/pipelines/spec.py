"""What a task is, as plain data: its name, its main input, its extra fields and parameters.

No torch, no transformers: the console lists tasks and renders their fields from this alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FieldKind = Literal["text", "longtext", "int", "float", "bool", "list", "choice"]


@dataclass(frozen=True)
class TaskField:
    """One extra input a task takes besides its main prompt; the console renders it generically."""

    name: str  # the parameter name passed to run_task's params
    label: str
    kind: FieldKind
    default: Any = None
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    name: str  # canonical name
    summary: str
    input_kind: Literal["text", "image"]  # "image": the input is an image file path
    input_label: str  # what the main prompt holds, e.g. "Question" for question-answering
    # The transformers pipeline task, when transformers implements it (or did, before 5.x).
    hf_task: str
    # False: the workbench implements it (transformers 5 removed the pipeline).
    native: bool
    # The model transformers picks when none is given (downloaded when online).
    default_model: str
    fields: tuple[TaskField, ...] = ()
    # Further parameters accepted but not shown as fields (passed to the pipeline or generate()).
    extra_params: tuple[str, ...] = ()

    def param_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields) + self.extra_params


# Generation settings every generating task accepts (passed on to generate()).
GEN_PARAMS = ("num_beams", "do_sample", "temperature", "top_k", "top_p", "repetition_penalty",
              "no_repeat_ngram_size", "length_penalty", "early_stopping", "min_length", "min_new_tokens",
              "num_return_sequences")
TOP_K = TaskField("top_k", "Top k", "int", 5, "How many best answers to show.")
