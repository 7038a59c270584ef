"""Run by torchrun from test_distributed_runs: one model's weights (a safetensors file) evaluated on
the nano preset's validation split by ``DistributedRun.evaluate`` (each rank its shard, then
gathered); rank 0 writes loss, accuracy and every prediction by example to a JSON file."""
import json
import sys

import torch
from safetensors.torch import load_file

from core.config import preset
from core.data.prepare import prepare_data
from core.distributed.ddp import DistributedRun
from core.distributed.env import read_env
from core.model import TransformerClassifier


def main(weights: str, out: str) -> None:
    cfg = preset("nano")
    data = prepare_data(cfg.data, cfg.model, cfg.train.seed)
    model = TransformerClassifier(cfg.model, len(data.label_names),
                                  vocab_size=max(cfg.model.vocab_size, data.encoder.vocab_size))
    model.load_state_dict(load_file(weights))
    parallel = DistributedRun.start(read_env(), "cpu", seed=0)
    try:
        # A small batch, so each shard is several batches of different widths.
        result = parallel.evaluate(model, data.val, 16, torch.device("cpu"), False, lambda: False)
        if parallel.is_main:
            with open(out, "w", encoding="utf-8") as f:
                json.dump({"loss": result.loss, "accuracy": result.accuracy, "predictions": result.predictions,
                           "labels": result.labels}, f)
    finally:
        parallel.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
