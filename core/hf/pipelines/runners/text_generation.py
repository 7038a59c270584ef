"""text-generation: continue a prompt, keeping its end when it is longer than the model takes."""
from __future__ import annotations

from core.errors import UserError
from core.hf.pipelines.native import NativeRunner, stop_when
from core.hf.pipelines.runner import Prepared, register
from core.hf.pipelines.spec import GEN_PARAMS, TaskField, TaskSpec
from core.hf.pipelines.text_limits import fit_text


@register
class TextGeneration(NativeRunner):
    order = 20
    needs = "a causal language model (GPT-2, Llama, ...)"
    spec = TaskSpec(
        "text-generation", "Continue a prompt.", "text", "Prompt",
        "text-generation", True, "HuggingFaceTB/SmolLM3-3B",
        (TaskField("max_new_tokens", "New tokens", "int", 30, "How many tokens to generate."),
         TaskField("do_sample", "Sample", "bool", False, "Sample instead of always taking the likeliest token."),),
        GEN_PARAMS + ("return_full_text",),
    )

    def preprocess(self, text, params):
        new_tokens = int(params.get("max_new_tokens") or 30)
        limit = self.limit
        if not limit:
            return Prepared(text)
        room = limit - new_tokens
        if room < 1:
            raise UserError(f"max_new_tokens={new_tokens} leaves no room for the prompt in {self.ref.name}",
                            f"ask for fewer than {limit} new tokens")
        text, original = fit_text(self.pipe.tokenizer, text, room, keep="end")
        if original > room:
            return Prepared(text, (f"prompt shortened to its last {room} tokens: {self.ref.name} takes {limit} "
                                   f"tokens including the {new_tokens} new ones",))
        return Prepared(text)

    def forward(self, text, params, cancel):
        kwargs = {k: v for k, v in params.items() if v is not None}
        kwargs.setdefault("max_new_tokens", 30)
        if cancel is not None:
            kwargs["stopping_criteria"] = [stop_when(cancel)]
        if not kwargs.get("do_sample"):
            # Greedy decoding: sampling settings from the model's generation_config would only warn.
            kwargs.setdefault("do_sample", False)
        return self.pipe(text, **kwargs)

    @classmethod
    def format(cls, result):
        return "\n".join(str(r["generated_text"]) for r in result)
