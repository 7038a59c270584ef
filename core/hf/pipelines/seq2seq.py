"""Translation, summarization and text2text-generation on AutoModelForSeq2SeqLM.

transformers 5.0 removed these pipelines; this is what they did in 4.x: the model config's
``task_specific_params`` give the prompt prefix (T5's "translate English to French: ") and
generation defaults, the user's parameters override them, and the decoded text comes back as
[{'translation_text' | 'summary_text' | 'generated_text': ...}].
"""
from __future__ import annotations


from core.errors import UserError
from core.hf.pipelines.loading import HeadModel, load_head_model
from core.hf.pipelines.models import ModelRef
from core.hf.pipelines.text_limits import model_limit

OUTPUT_KEYS = {"translation": "translation_text", "summarization": "summary_text",
               "text2text-generation": "generated_text"}
GENERATION_PARAMS = ("max_length", "min_length", "max_new_tokens", "min_new_tokens", "num_beams", "do_sample",
                     "temperature", "top_k", "top_p", "repetition_penalty", "no_repeat_ngram_size",
                     "length_penalty", "early_stopping", "num_return_sequences")


def load_seq2seq(ref: ModelRef, trust_remote_code: bool) -> HeadModel:
    return load_head_model(ref, trust_remote_code, "AutoModelForSeq2SeqLM", "text-to-text")


def task_key(task: str, params: dict, config) -> str:
    """The task_specific_params key: translation_en_to_fr, summarization, text2text-generation."""
    if task != "translation":
        return task
    src, tgt = params.get("src_lang"), params.get("tgt_lang")
    known = sorted(k for k in (getattr(config, "task_specific_params", None) or {}) if k.startswith("translation"))
    if src and tgt:
        return f"translation_{src}_to_{tgt}"
    if known:
        raise UserError("this model translates between several languages: say which",
                        f"use one of {', '.join(known)} as the task, or --param src_lang=.. --param tgt_lang=..")
    return "translation"


def run_seq2seq(bundle: HeadModel, task: str, ref: ModelRef, text: str, params: dict,
                notices: list[str], cancel=None) -> list[dict]:
    import torch

    tokenizer, model, config = bundle.tokenizer, bundle.model, bundle.config
    key = task_key(task, params, config)
    defaults = dict((getattr(config, "task_specific_params", None) or {}).get(key, {}))
    prefix = defaults.pop("prefix", None) or getattr(config, "prefix", None) or ""
    gen = {k: v for k, v in defaults.items() if k in GENERATION_PARAMS}
    gen.update({k: v for k, v in params.items() if k in GENERATION_PARAMS and v is not None})
    if "max_new_tokens" in gen and "max_length" in gen and "max_new_tokens" in params:
        gen.pop("max_length")  # the user's explicit max_new_tokens wins over a config max_length
    forced = _multilingual_target(tokenizer, params)
    if forced is not None:
        gen["forced_bos_token_id"] = forced
    if cancel is not None:
        from core.hf.pipelines.native import stop_when

        gen["stopping_criteria"] = [stop_when(cancel)]

    limit = model_limit(tokenizer, config)
    full = tokenizer(prefix + text)["input_ids"]
    encoded = tokenizer(prefix + text, truncation=bool(limit), max_length=limit, return_tensors="pt")
    if limit and len(full) > limit:
        notices.append(f"input truncated: {len(full)} tokens, {ref.name} takes at most {limit}")
    encoded = {k: v.to(model.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
    with torch.inference_mode():
        output = model.generate(**encoded, **gen)  # (num_return_sequences, T_out)
    texts = tokenizer.batch_decode(output, skip_special_tokens=True, clean_up_tokenization_spaces=True)
    out_key = OUTPUT_KEYS[task]
    return [{out_key: t.strip()} for t in texts]


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
