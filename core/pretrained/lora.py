"""LoRA adapters on a backbone, through ``peft`` (the optional ``lora`` extra).

peft trains only the adapters and, unless the head is listed in ``modules_to_save``, silently
leaves a new classification head at its random initialisation and out of the saved adapter
(peft #310, #577, #1070). So the head's modules are always listed, and checked to be trained.
"""
from __future__ import annotations

from torch import nn

from core.config import ModelConfig
from core.errors import UserError

INSTALL_HINT = "install it with pip install 'transformer-workbench[lora]'"


def head_modules(model: nn.Module) -> list[str]:
    """The top-level modules of a transformers classifier outside its base model (classifier,
    pre_classifier, score, ...): the ones a new head consists of."""
    prefix = getattr(model, "base_model_prefix", "")
    return [name for name, child in model.named_children()
            if name != prefix and any(True for _ in child.parameters())]


def add_lora(model: nn.Module, cfg: ModelConfig) -> nn.Module:
    """``model`` with rank-``lora_rank`` adapters on its target modules and its head trained."""
    try:
        from peft import LoraConfig, TaskType, get_peft_model
    except ImportError:
        raise UserError("model.lora_rank needs the peft package, which is not installed", INSTALL_HINT) from None
    heads = head_modules(model)
    targets = [t.strip() for t in cfg.lora_targets.split(",") if t.strip()] or None
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=cfg.lora_rank, lora_alpha=cfg.lora_alpha,
                        lora_dropout=cfg.lora_dropout, target_modules=targets, modules_to_save=heads)
    try:
        wrapped = get_peft_model(model, config)
    except ValueError as exc:  # no target modules found, or none given for an unknown architecture
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"cannot add LoRA adapters: {first}",
                        "set model.lora_targets to the backbone's attention projections, e.g. query,value") from None
    untrained = [n for n, p in wrapped.named_parameters()
                 if not p.requires_grad and any(f".{h}." in f".{n}" for h in heads) and "original_module" not in n]
    if untrained:
        raise RuntimeError(f"peft left the head parameter {untrained[0]} untrained")
    return wrapped


def merged(model: nn.Module) -> nn.Module:
    """The plain transformers model with the adapters folded into its weights (for export)."""
    if hasattr(model, "merge_and_unload"):
        import copy

        return copy.deepcopy(model).merge_and_unload()
    return model
