"""Run by torchrun from test_distributed_runs: three optimizer steps of ``DistributedRun`` (DDP,
gloo, the token table's gradients sparse) on fixed global batches, each rank its slice; rank 0
writes the weights after them, and whether the token table was trained sparse, for the test to
compare with one process stepping on the whole global batches."""
import json
import sys

import torch
from safetensors.torch import load_file, save_file

from core.data.batching import collate
from core.distributed.ddp import DistributedRun
from core.distributed.env import read_env
from core.training.loop import build_optimizer, train_step
from ddp_step_common import CONFIG, global_batches, new_model


def main(weights: str, out: str) -> None:
    model = new_model()
    model.load_state_dict(load_file(weights))
    parallel = DistributedRun.start(read_env(), "cpu", seed=0)
    try:
        device = parallel.setup_device(torch.device("cpu"))
        step_model = parallel.wrap(model)
        optimizer = build_optimizer(model, CONFIG.train)
        for ids, labels in global_batches():
            mine = range(parallel.rank, len(ids), parallel.world_size)
            batch = collate([ids[i] for i in mine], [labels[i] for i in mine], list(mine))
            train_step(step_model, optimizer, batch, 1e-2, CONFIG.train, device,
                       gradients_ready=parallel.gradients_ready)
        if parallel.is_main:
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out)
            with open(out + ".json", "w", encoding="utf-8") as f:
                json.dump({"sparse": model.embedding.sparse}, f)
        # Leave together. Once, under CI load, rank 1 aborted ("terminate called without an
        # active exception"); the likeliest moment, not established, is leaving the group while
        # rank 0 still wrote. This test checks the weights; the 2-process training tests
        # exercise twb's own ending.
        torch.distributed.barrier()
    finally:
        parallel.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
