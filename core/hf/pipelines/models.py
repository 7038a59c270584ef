"""Where models come from, as the pipelines see it: ``core.pretrained.sources``.

The resolution rules (folder, Hugging Face cache, hub id when online, the packaged MiniLM,
exports) moved below the layers so that training a pretrained backbone can use them too; the
names stay importable from here. Patch them (in tests) in ``core.pretrained.sources``.
"""
from core.pretrained.sources import (  # noqa: F401
    DEFAULT_SEARCH_DIRS, HOW_TO_GET, LocalModel, ModelRef, data_dir, hub_reachable, is_cached, is_offline,
    list_local_models, minilm_folder, offline_error, remember_export, resolve_model,
)
