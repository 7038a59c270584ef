"""Token attributions at the embedding layer: gradient x input and Integrated Gradients.

Both explain f = the target class's logit (logits do not saturate the way probabilities do,
so a confident model still gets non-zero gradients). A token's score is the sum over the
embedding's channels of its attribution: positive pushes towards the target class.

Integrated Gradients (Sundararajan et al. 2017) goes through captum's
``LayerIntegratedGradients`` at the embedding layer, from a baseline that keeps the special
tokens and puts padding everywhere else (captum #150). By completeness its scores sum to
f(x) - f(baseline); captum's convergence delta is how far the Riemann sum is from that.
captum is an optional dependency (the ``explain`` extra), imported only here.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
from torch import Tensor

from core.errors import UserError

CAPTUM_HINT = "install it with pip install 'transformer-workbench[explain]'"


class GradientsUnavailable(Exception):
    """The model cannot be differentiated (e.g. its weights were made under inference_mode)."""


@contextlib.contextmanager
def _eval(model: torch.nn.Module) -> Iterator[None]:
    """The model in eval mode (no dropout) for the block; its previous mode restored afterwards."""
    was = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was)


def gradient_x_input(clf: Any, enc: Any, target: int) -> list[float]:
    """Per-token sum over channels of d f / d e  *  e, e the token's embedding."""
    captured: list[Tensor] = []

    def hook(_module, _inputs, output):
        # A fresh leaf, so gradients reach it even when the weights do not require grad
        # (a training snapshot's do not).
        leaf = output.detach().requires_grad_(True)
        captured.append(leaf)
        return leaf

    module = clf.embedding_layer
    handle = module.register_forward_hook(hook)
    try:
        with _eval(clf.model), torch.enable_grad():
            out = clf.logits(enc.input_ids, enc.mask)[0, target]
            if not out.requires_grad:
                raise GradientsUnavailable("the model's output does not depend on its embeddings through autograd")
            (grad,) = torch.autograd.grad(out, captured[0])
    except RuntimeError as exc:  # inference tensors, a module that refuses autograd
        raise GradientsUnavailable(_first_line(exc)) from None
    finally:
        handle.remove()
    emb = captured[0].detach()
    return (grad * emb).sum(dim=-1)[0].float().cpu().tolist()  # (T,)


def integrated_gradients(clf: Any, enc: Any, target: int, steps: int = 50,
                         internal_batch_size: int | None = None) -> tuple[list[float], float]:
    """Per-token IG scores and captum's convergence delta (sum of scores - (f(x) - f(baseline)))."""
    try:
        from captum.attr import LayerIntegratedGradients
    except ImportError:
        raise UserError("Integrated Gradients needs the captum package", CAPTUM_HINT) from None

    def forward(input_ids: Tensor, mask: Tensor) -> Tensor:
        return clf.logits(input_ids, mask.expand(input_ids.shape[0], -1))[:, target]  # (B,)

    lig = LayerIntegratedGradients(forward, clf.embedding_layer)
    try:
        with _eval(clf.model), torch.enable_grad():
            attributions, delta = lig.attribute(
                inputs=enc.input_ids, baselines=enc.baseline_ids, additional_forward_args=(enc.mask,),
                n_steps=steps, internal_batch_size=internal_batch_size or steps, return_convergence_delta=True)
    except RuntimeError as exc:
        raise GradientsUnavailable(_first_line(exc)) from None
    return attributions.sum(dim=-1)[0].float().cpu().tolist(), float(delta.reshape(-1)[0])


def target_output(clf: Any, input_ids: Tensor, mask: Tensor, target: int) -> float:
    """f for one input: the target class's logit (what completeness is stated in)."""
    with _eval(clf.model), torch.no_grad():
        return float(clf.logits(input_ids, mask)[0, target])


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
