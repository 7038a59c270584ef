"""Translation, summarization and text2text-generation on AutoModelForSeq2SeqLM.

transformers 5.0 removed these pipelines; this does what 4.x did: the model config's
``task_specific_params`` give the prompt prefix (T5's "translate English to French: ") and
generation defaults, the user's parameters override them, each output is decoded with
``clean_up_tokenization_spaces=False`` (``la ?`` stays ``la ?``) and comes back as
[{'translation_text' | 'summary_text' | 'generated_text': ...}], one dict per returned sequence.
A list of inputs gives a flat list when each input has one result, as transformers' did.
"""
from __future__ import annotations

from typing import Any, ClassVar

from core.errors import UserError
from core.hf.pipelines.loading import HeadModel, load_head_model
from core.hf.pipelines.models import ModelRef
from core.hf.pipelines.runner import Prepared, TaskRunner
from core.hf.pipelines.text_limits import model_limit

GENERATION_PARAMS = ("max_length", "min_length", "max_new_tokens", "min_new_tokens", "num_beams", "do_sample",
                     "temperature", "top_k", "top_p", "repetition_penalty", "no_repeat_ngram_size",
                     "length_penalty", "early_stopping", "num_return_sequences")
_DEFAULT_MAX_LENGTH = 20  # generate()'s own default
SEQ2SEQ = "a sequence-to-sequence model (T5, BART, Marian, ...)"


def load_seq2seq(ref: ModelRef, trust_remote_code: bool, task: str = "text-to-text") -> HeadModel:
    return load_head_model(ref, trust_remote_code, "AutoModelForSeq2SeqLM", task, needs=SEQ2SEQ)


class Seq2SeqRunner(TaskRunner):
    """The shared steps; a task names its output key."""

    output_key: ClassVar[str]

    def load(self) -> "Seq2SeqRunner":
        self.bundle = load_seq2seq(self.ref, self.trust_remote_code, self.spec.name)
        self.load_notices = self.bundle.notices
        return self

    def task_key(self, params: dict) -> str:
        """The task_specific_params key: translation_en_to_fr, summarization, text2text-generation."""
        return self.spec.name

    def preprocess(self, text: str, params: dict) -> Prepared:
        tokenizer, config = self.bundle.tokenizer, self.bundle.config
        defaults = dict((getattr(config, "task_specific_params", None) or {}).get(self.task_key(params), {}))
        prefix = defaults.pop("prefix", None) or getattr(config, "prefix", None) or ""
        gen = {k: v for k, v in defaults.items() if k in GENERATION_PARAMS}
        gen.update({k: v for k, v in params.items() if k in GENERATION_PARAMS and v is not None})
        if "max_new_tokens" in gen and "max_length" in gen and "max_new_tokens" in params:
            gen.pop("max_length")  # the user's explicit max_new_tokens wins over a config max_length
        if gen.get("max_length") == _DEFAULT_MAX_LENGTH and "max_length" not in params and "max_new_tokens" not in gen:
            # transformers 4 read a max_length from the model's settings equal to generate()'s
            # default as "not set": 20 *new* tokens, within the model's positions.
            positions = getattr(config, "max_position_embeddings", None)
            gen.pop("max_length")
            gen["max_new_tokens"] = min(_DEFAULT_MAX_LENGTH, positions - 1) if positions else _DEFAULT_MAX_LENGTH
        forced = _multilingual_target(tokenizer, params)
        if forced is not None:
            gen["forced_bos_token_id"] = forced
        limit = model_limit(tokenizer, config)
        full = tokenizer(prefix + text)["input_ids"]
        encoded = tokenizer(prefix + text, truncation=bool(limit), max_length=limit, return_tensors="pt")
        notices = ()
        if limit and len(full) > limit:
            notices = (f"input truncated: {len(full)} tokens, {self.ref.name} takes at most {limit}",)
        # token_type_ids: produced by some tokenizers, refused by generate().
        encoded = {k: v for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
        return Prepared((encoded, gen), notices)

    def forward(self, inputs: Any, params: dict, cancel) -> Any:
        import torch

        encoded, gen = inputs
        model = self.bundle.model
        if cancel is not None:
            from core.hf.pipelines.native import stop_when

            gen = {**gen, "stopping_criteria": [stop_when(cancel)]}
        with torch.inference_mode():
            return model.generate(**{k: v.to(model.device) for k, v in encoded.items()}, **gen)  # (N, T_out)

    def postprocess(self, output_ids, params: dict) -> list[dict]:
        decode = self.bundle.tokenizer.decode
        return [{self.output_key: decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)}
                for ids in output_ids]

    @classmethod
    def combine(cls, results: list[Any]) -> Any:
        if all(len(r) == 1 for r in results):
            return [r[0] for r in results]
        return results

    @classmethod
    def format(cls, result: Any) -> str:
        items = [r for group in result for r in (group if isinstance(group, list) else [group])]
        return "\n".join(str(r[cls.output_key]) for r in items)


def translation_key(params: dict, config) -> str:
    """translation_xx_to_yy from the languages, or "translation" for a one-pair model."""
    src, tgt = params.get("src_lang"), params.get("tgt_lang")
    known = sorted(k for k in (getattr(config, "task_specific_params", None) or {}) if k.startswith("translation"))
    if src and tgt:
        return f"translation_{src}_to_{tgt}"
    if known:
        raise UserError("this model translates between several languages: say which",
                        f"use one of {', '.join(known)} as the task, or --param src_lang=.. --param tgt_lang=..")
    return "translation"


def _multilingual_target(tokenizer, params: dict) -> int | None:
    """For mBART/NLLB/M2M-style tokenizers: set the source language, force the target's token."""
    src, tgt = params.get("src_lang"), params.get("tgt_lang")
    if not hasattr(tokenizer, "src_lang") or not tgt:
        return None
    if src:
        tokenizer.src_lang = src
    for token in (tgt, f"__{tgt}__"):
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token_id is not None and token_id != tokenizer.unk_token_id:
            return int(token_id)
    return None
