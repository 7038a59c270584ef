"""The base of the tasks that the installed transformers runs itself: load its pipeline, fit the
input to the model's limit, and hand back plain results in the transformers-4 shapes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from core.errors import UserError
from core.hf.pipelines.loading import (cached, device_for_pipelines, load_config, quiet_transformers,
                                       random_head_notice, require_tokenizer_files, translate_load_errors)
from core.hf.pipelines.models import ModelRef
from core.hf.pipelines.runner import Prepared, TaskRunner
from core.hf.pipelines.text_limits import fit_text, model_limit, to_plain, token_ids, truncation_notice


@dataclass(frozen=True)
class LoadedPipeline:
    pipe: Any
    notices: tuple[str, ...]  # said on every run with this model (e.g. a randomly initialised head)


def load_pipeline(hf_task: str, ref: ModelRef, trust_remote_code: bool, *, needs: str = "",
                  text_input: bool = True, head: bool = True) -> LoadedPipeline:
    """transformers' own pipeline for hf_task (cached). needs: what kind of model the task needs,
    for the refusal of one that is not; head=False: the task uses the bare model."""
    def build():
        quiet_transformers()
        load_config(ref, trust_remote_code)
        if text_input:
            require_tokenizer_files(ref)
        from transformers import pipeline

        with translate_load_errors(ref, trust_remote_code, needs=needs, task=hf_task):
            pipe = pipeline(hf_task, model=ref.location, trust_remote_code=trust_remote_code,
                            device=device_for_pipelines())
        notice = random_head_notice(pipe.model, ref, hf_task) if head else None
        return LoadedPipeline(pipe, (notice,) if notice else ())

    return cached(("pipeline", hf_task, ref.location, trust_remote_code), build)


class NativeRunner(TaskRunner):
    """A task on transformers' own pipeline; subclasses call it in ``forward``."""

    implementation = "transformers"
    needs: ClassVar[str] = ""  # what kind of model the task needs, said when the model is not one
    uses_head: ClassVar[bool] = True

    def load(self) -> "NativeRunner":
        loaded = load_pipeline(self.spec.hf_task, self.ref, self.trust_remote_code, needs=self.needs,
                               text_input=self.spec.input_kind == "text", head=self.uses_head)
        self.pipe, self.load_notices = loaded.pipe, loaded.notices
        return self

    @property
    def limit(self) -> int | None:
        return model_limit(self.pipe.tokenizer, self.pipe.model.config)

    def fit(self, text: str) -> Prepared:
        """The text cut to the model's limit, with a notice when it was cut."""
        limit = self.limit
        if limit and len(token_ids(self.pipe.tokenizer, text)) > limit:
            text, original = fit_text(self.pipe.tokenizer, text, limit)
            return Prepared(text, (truncation_notice(original, limit, self.ref.name),))
        return Prepared(text)

    def preprocess(self, text: str, params: dict) -> Prepared:
        return self.fit(text)

    def postprocess(self, raw: Any, params: dict) -> Any:
        return to_plain(raw)


def stop_when(cancel):
    """A generation stopping criterion that ends generation once the cancel event is set."""
    from transformers import StoppingCriteria

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            import torch

            return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device)

    return _Cancelled()
