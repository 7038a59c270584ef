"""Adam and AdamW as ``torch.optim``'s fused kernels do them, without ``torch.optim.Optimizer``.

Why not simply ``torch.optim.Adam(fused=True)``: every method of ``torch.optim.Optimizer``
(``__init__``, ``step``, ``zero_grad``) imports ``torch._dynamo`` on its first call, even when
nothing is compiled, and that import took 1.4-1.7 s here: half of the time from ``twb train``
to its first step. ``FusedAdam`` calls the same kernels (``torch._fused_adam_`` and
``torch._fused_adamw_``) with the same arguments, so its steps equal torch's to the bit
(tests/core/test_adam.py compares them), and its ``state_dict`` is torch's format, so
checkpoints load into either. It does only what the trainer uses: no amsgrad, no maximize, no
gradient scaler. ``build_optimizer`` (core.training.loop) falls back to ``torch.optim`` where
no fused kernel exists.
"""
from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import Tensor

FUSED_DEVICES = ("cpu", "cuda")  # where torch 2.x has the fused Adam kernels


class FusedAdam:
    """Adam (L2 weight decay, the tutorial's) or, with ``decoupled``, AdamW."""

    def __init__(self, groups: Iterable[dict[str, Any]], lr: float, decoupled: bool,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.decoupled = decoupled
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": 0.01 if decoupled else 0.0,
                    "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                    "differentiable": False, "fused": True, "decoupled_weight_decay": decoupled}
        self.param_groups: list[dict[str, Any]] = [{**defaults, **group, "params": list(group["params"])}
                                                   for group in groups]
        self.state: dict[Tensor, dict[str, Tensor]] = {}

    @staticmethod
    def supports(params: Iterable[Tensor]) -> bool:
        """Whether the fused kernels take these parameters (floating point, on a CPU or CUDA)."""
        return all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in params)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        kernel = torch._fused_adamw_ if self.decoupled else torch._fused_adam_
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            # The kernel takes one device and dtype per call, as torch.optim groups them.
            by_kind: dict[tuple[torch.device, torch.dtype], list[Tensor]] = {}
            for p in group["params"]:
                if p.grad is not None:
                    by_kind.setdefault((p.device, p.dtype), []).append(p)
            for params in by_kind.values():
                states = [self._state_of(p) for p in params]
                steps = [s["step"] for s in states]
                torch._foreach_add_(steps, 1)
                kernel(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                       [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False, lr=group["lr"],
                       beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"],
                       maximize=False, grad_scale=None, found_inf=None)

    def _state_of(self, p: Tensor) -> dict[str, Tensor]:
        state = self.state.get(p)
        if state is None:  # as torch.optim.Adam's _init_group with fused=True
            state = self.state[p] = {
                "step": torch.tensor(0.0, dtype=torch.float32, device=p.device),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return state

    def state_dict(self) -> dict[str, Any]:
        """torch.optim.Optimizer.state_dict's format: parameters numbered across the groups."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": [index[id(p)] for p in group["params"]]})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Read a state dict of this class or of torch.optim.Adam/AdamW; a mismatch raises
        ValueError, as torch's does (core.training.resume turns it into the user's error)."""
        groups = saved["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(mine["params"]) for g, mine in zip(groups, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        by_index = {i: p for g, mine in zip(groups, self.param_groups) for i, p in zip(g["params"], mine["params"])}
        self.state = {}
        for i, values in saved["state"].items():
            p = by_index[int(i)]
            self.state[p] = {key: value.to(dtype=torch.float32 if key == "step" else p.dtype, device=p.device)
                             for key, value in values.items()}
        self.param_groups = [{**g, "params": mine["params"]} for g, mine in zip(groups, self.param_groups)]


Optimizer = FusedAdam | torch.optim.Optimizer  # what build_optimizer returns
