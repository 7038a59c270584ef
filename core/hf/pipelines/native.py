"""Tasks that the installed transformers runs itself: load its pipeline, check the input, fit it
to the model's limit, and hand back plain results in the transformers-4 shapes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.hf.pipelines.loading import (cached, device_for_pipelines, load_config, quiet_transformers,
                                    random_head_notice, translate_load_errors)
from core.hf.pipelines.models import ModelRef
from core.hf.pipelines.tasks import TaskSpec
from core.hf.pipelines.text_limits import fit_text, model_limit, to_plain, token_ids, truncation_notice

# Mask tokens users type out of habit: replaced by the model's own (BERT [MASK], RoBERTa <mask>).
_MASK_SPELLINGS = ("[MASK]", "<mask>")


def native_task_available(hf_task: str) -> bool:
    from transformers.pipelines import SUPPORTED_TASKS

    return hf_task in SUPPORTED_TASKS


@dataclass(frozen=True)
class LoadedPipeline:
    pipe: Any
    notices: tuple[str, ...]  # said on every run with this model (e.g. a randomly initialised head)


def load_pipeline(hf_task: str, ref: ModelRef, trust_remote_code: bool) -> LoadedPipeline:
    def build():
        quiet_transformers()
        load_config(ref, trust_remote_code)
        from transformers import pipeline

        with translate_load_errors(ref, trust_remote_code):
            pipe = pipeline(hf_task, model=ref.location, trust_remote_code=trust_remote_code,
                            device=device_for_pipelines())
        # Feature extraction uses the bare model: there is no head to be missing.
        notice = None if hf_task == "feature-extraction" else random_head_notice(pipe.model, ref, hf_task)
        return LoadedPipeline(pipe, (notice,) if notice else ())

    return cached(("pipeline", hf_task, ref.location, trust_remote_code), build)


def run_native(spec: TaskSpec, pipe, ref: ModelRef, text: str, params: dict, notices: list[str],
               cancel=None) -> Any:
    task = spec.name
    if task == "image-classification":
        image = _open_image(text)
        return to_plain(pipe(image, top_k=params.get("top_k", 5)))
    tokenizer = pipe.tokenizer
    limit = model_limit(tokenizer, pipe.model.config)
    if task == "text-generation":
        return _generate(pipe, ref, text, params, notices, limit, cancel)
    if task == "fill-mask":
        text = _with_model_mask(tokenizer, text)
    ids = token_ids(tokenizer, text)  # one tokenization: the length check and the token list
    if limit and len(ids) > limit:
        text, original = fit_text(tokenizer, text, limit)
        notices.append(truncation_notice(original, limit, ref.name))
        ids = token_ids(tokenizer, text)
    if task == "fill-mask" and tokenizer.mask_token not in text:
        raise UserError("the mask token was cut off with the end of the text", "put the mask earlier, or shorten the text")
    if task == "text-classification":
        kwargs = {k: params[k] for k in ("top_k", "function_to_apply") if params.get(k) is not None}
        result = pipe(text, **kwargs)
        return to_plain(result)
    if task == "fill-mask":
        return to_plain(pipe(text, top_k=params.get("top_k", 5)))
    if task == "feature-extraction":
        return _features(pipe, text, ids, bool(params.get("return_values")))
    if task == "zero-shot-classification":
        labels = params.get("candidate_labels")
        if isinstance(labels, str):
            labels = [part.strip() for part in labels.split(",") if part.strip()]
        if not labels:
            raise UserError("zero-shot-classification needs candidate labels", "e.g. --param candidate_labels=travel,cooking")
        kwargs = {"multi_label": bool(params.get("multi_label", False))}
        if params.get("hypothesis_template"):
            kwargs["hypothesis_template"] = params["hypothesis_template"]
        return to_plain(pipe(text, candidate_labels=list(labels), **kwargs))
    if task == "token-classification":
        kwargs = {"aggregation_strategy": params.get("aggregation_strategy") or "none"}
        if params.get("ignore_labels") is not None:
            kwargs["ignore_labels"] = params["ignore_labels"]
        return to_plain(pipe(text, **kwargs))
    raise AssertionError(f"no native runner for {task}")  # tasks.py and this file disagree: a bug


def _features(pipe, text: str, ids: list[int], return_values: bool) -> dict:
    hidden = pipe(text, return_tensors=True)  # (1, T, H)
    result = {"shape": list(hidden.shape), "tokens": pipe.tokenizer.convert_ids_to_tokens(ids)}
    if return_values:
        result["features"] = to_plain(hidden)
    return result


def _generate(pipe, ref: ModelRef, text: str, params: dict, notices: list[str], limit, cancel) -> Any:
    kwargs = {k: v for k, v in params.items() if v is not None}
    kwargs.setdefault("max_new_tokens", 30)
    if limit:
        room = limit - int(kwargs["max_new_tokens"])
        if room < 1:
            raise UserError(f"max_new_tokens={kwargs['max_new_tokens']} leaves no room for the prompt in {ref.name}",
                            f"ask for fewer than {limit} new tokens")
        text, original = fit_text(pipe.tokenizer, text, room, keep="end")
        if original > room:
            notices.append(f"prompt shortened to its last {room} tokens: {ref.name} takes {limit} tokens "
                           f"including the {kwargs['max_new_tokens']} new ones")
    if cancel is not None:
        kwargs["stopping_criteria"] = [stop_when(cancel)]
    if not kwargs.get("do_sample"):
        # Greedy decoding: sampling settings from the model's generation_config would only warn.
        kwargs.setdefault("do_sample", False)
    return to_plain(pipe(text, **kwargs))


def stop_when(cancel):
    """A generation stopping criterion that ends generation once the cancel event is set."""
    from transformers import StoppingCriteria

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            import torch

            return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device)

    return _Cancelled()


def _with_model_mask(tokenizer, text: str) -> str:
    mask = tokenizer.mask_token
    if mask is None:
        raise UserError("this model has no mask token, so it cannot fill masks", "choose a masked-language model")
    for spelling in _MASK_SPELLINGS:
        if spelling != mask:
            text = text.replace(spelling, mask)
    if mask not in text:
        raise UserError(f"fill-mask needs the mask token {mask} in the text", f"e.g. Paris is the {mask} of France.")
    return text


def _open_image(path_text: str):
    from PIL import Image, UnidentifiedImageError

    path = Path(path_text.strip()).expanduser()
    if not path.is_file():
        raise UserError(f"image file {str(path)!r} does not exist", "give the path of a PNG or JPEG file")
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise UserError(f"{str(path)!r} is not an image Pillow can read", str(exc)) from None
