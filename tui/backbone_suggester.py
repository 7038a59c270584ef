"""Suggestions for the model.backbone field: 'scratch' and the models usable offline.

The list (``core.pretrained.form_facts.backbone_candidates``: the packaged MiniLM, exports,
./models, the Hugging Face cache, model folders under the working folder) is read once, on the
first keystroke that is not the start of 'scratch', and in a thread, so it never delays the form's first paint.
"""
from __future__ import annotations

import asyncio

from textual.suggester import Suggester


class BackboneSuggester(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self._names: list[str] | None = None

    async def get_suggestion(self, value: str) -> str | None:
        if value and "scratch".startswith(value.casefold()):
            # The form's own value when it mounts: answered without listing models, so the
            # first screen reads no HF cache (and imports no huggingface_hub).
            return "scratch"
        if self._names is None:
            from core.pretrained.form_facts import backbone_candidates

            try:
                found = await asyncio.to_thread(backbone_candidates)
            except Exception:  # an unreadable cache: no suggestions rather than a broken field
                found = []
            self._names = ["scratch", *found]
        for name in self._names:
            if name.casefold().startswith(value.casefold()) and value:
                return name
        return None
