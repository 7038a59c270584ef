"""Explain one text: every method's token scores, IG's delta, and each method's faithfulness.

A method that cannot run on this model (no gradients, captum missing) is left out with the
reason in ``Explanation.unavailable``; the others are still computed.
"""
from __future__ import annotations

from typing import Any

from core.errors import UserError
from core.explain import attributions, faithfulness, rollout
from core.explanation import GRAD_X_INPUT, INTEGRATED_GRADIENTS, METHODS, ROLLOUT, Explanation

DEFAULT_STEPS = 50
MAX_STEPS = 2000  # past this a CPU takes minutes for no visible change in the scores
DEFAULT_TOP_K = 1  # one token: "the word that decided it"; longer texts may ask for more


def explain_text(clf: Any, text: str, target: str | None = None, steps: int = DEFAULT_STEPS,
                 top_k: int = DEFAULT_TOP_K, methods: tuple[str, ...] = METHODS) -> Explanation:
    """Explain ``clf``'s prediction for ``text`` (or its score for class ``target``)."""
    if not 1 <= steps <= MAX_STEPS:
        raise UserError(f"Integrated Gradients takes 1 to {MAX_STEPS} steps, got {steps}",
                        f"use {DEFAULT_STEPS} steps (the usual choice); more only shrinks the delta")
    if top_k < 1:
        raise UserError(f"top-k must be at least 1, got {top_k}", "use 1 to remove or keep the single top token")
    enc = clf.encode(text)
    logits, maps, skip = clf.attention(enc.input_ids, enc.mask)  # one pass: prediction and weights
    probs = logits.float().softmax(dim=-1)[0].tolist()
    names = clf.label_names
    prediction = dict(zip(names, probs))
    if target is None:
        index = max(range(len(probs)), key=probs.__getitem__)
    elif target in names:
        index = names.index(target)
    else:
        raise UserError(f"the model has no class {target!r}", f"choose one of: {', '.join(names)}")

    scores: dict[str, list[float]] = {}
    unavailable: dict[str, str] = {}
    delta = None
    if ROLLOUT in methods:
        scores[ROLLOUT] = rollout.token_scores(rollout.rollout(maps.float().cpu().numpy()), clf.pooled_position, skip)
    try:
        if GRAD_X_INPUT in methods:
            scores[GRAD_X_INPUT] = attributions.gradient_x_input(clf, enc, index)
        if INTEGRATED_GRADIENTS in methods:
            scores[INTEGRATED_GRADIENTS], delta = attributions.integrated_gradients(clf, enc, index, steps)
    except attributions.GradientsUnavailable as exc:
        reason = f"no gradients through this model ({exc}); attention rollout needs none"
        unavailable.update({m: reason for m in (GRAD_X_INPUT, INTEGRATED_GRADIENTS) if m in methods and m not in scores})
    except UserError as exc:  # captum missing: IG only
        if INTEGRATED_GRADIENTS not in methods:
            raise
        unavailable[INTEGRATED_GRADIENTS] = str(exc)

    k = min(top_k, max(1, sum(not s for s in enc.special)))
    p_full = probs[index]
    faith = {m: faithfulness.faithfulness(clf, enc, index, faithfulness.top_positions(row, enc.special, k), p_full)
             for m, row in scores.items()}
    return Explanation(tokens=enc.tokens, target=names[index], prediction=prediction, scores=scores, delta=delta,
                       steps=steps if INTEGRATED_GRADIENTS in scores else 0, faithfulness=faith,
                       unavailable=unavailable, source=clf.source, truncated=enc.truncated, text=text)
