"""Pretrained Hugging Face models as training backbones.

Below the layers (like ``core.model``): ``sources`` finds a model (folder, cache, hub id,
packaged MiniLM, exports), ``backbone`` loads one with a classification head and wraps it in
the workbench's model interface, ``lora`` adds LoRA adapters. Nothing here imports
``core.training`` or ``core.hf``.
"""
