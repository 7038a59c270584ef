"""The task runners, one module per task: every module here is imported and registers its runner.

Adding a task = adding a module with a ``@register``-ed ``TaskRunner`` subclass. Modules import
torch and transformers only inside methods, so listing tasks stays cheap.
"""
from __future__ import annotations

import importlib
import pkgutil

from core.hf.pipelines.runner import REGISTRY, TaskRunner


def _import_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_all()
RUNNERS: dict[str, type[TaskRunner]] = dict(sorted(REGISTRY.items(), key=lambda item: item[1].order))
