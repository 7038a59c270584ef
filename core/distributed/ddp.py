"""``DistributedRun``: the trainer's ``Parallel`` (core.training.parallel) over a process group.

One process per rank, joined by torchrun's environment (``init_method="env://"``): gloo on the
CPU, NCCL on CUDA (each rank on ``cuda:LOCAL_RANK``). The model is wrapped in
``DistributedDataParallel``, which averages gradients in backward; everything else the trainer
does the same on every rank, and only rank 0 emits events and writes files.

Every collective has a timeout, so a rank that dies or hangs ends the job instead of leaving
the others waiting for ever; torchrun then stops the rest.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from datetime import timedelta
from typing import Any, Callable, Iterator

import torch

from core.distributed import sharding
from core.distributed.env import JobEnv, threads_per_rank
from core.distributed.launch import LOST_CONTACT
from core.errors import UserError
from core.training.checkpoint_state import capture_rng_state, restore_rng_state
from core.training.parallel import adapt_progress, saved_world_size

# Longer than any step, evaluation or checkpoint write of a healthy run, far shorter than "for ever".
COLLECTIVE_TIMEOUT_S = 120.0
# Ranks agree on stopping every few steps, not every step: the agreement is a collective of its
# own, which on CUDA synchronises the GPU and on gloo costs a round trip (about 0.4 ms, over 1%
# of a seed-model step). A stop then comes at most 7 steps later.
STOP_CHECK_EVERY = 8
# Words in the errors gloo and NCCL raise when another rank has gone away.
_PEER_LOST = ("connection closed", "connection reset", "broken pipe", "timed out", "timeout", "gloo", "nccl",
              "socket", "peer")


class DistributedRun:
    def __init__(self, env: JobEnv, device: torch.device, seed: int):
        self.env = env
        self.rank = env.rank
        self.world_size = env.world_size
        self.is_main = env.is_main
        self.device = device
        self.seed = seed
        self._stop_calls = 0
        self._resumed = False
        self._last_mark = time.perf_counter()
        self._sparse: list[torch.nn.Parameter] = []

    @classmethod
    def start(cls, env: JobEnv, device_name: str, seed: int,
              timeout_s: float = COLLECTIVE_TIMEOUT_S) -> "DistributedRun":
        """Join the job's process group; UserError when it cannot be joined."""
        import torch.distributed as dist

        from core.training.devices import resolve_device

        wanted = resolve_device(device_name)
        if wanted.type == "cuda":
            count = torch.cuda.device_count()
            if env.local_rank >= count:
                raise UserError(f"rank {env.rank} needs cuda:{env.local_rank}, but this node has {count} GPU(s)",
                                f"start at most {count} processes per node")
            device = torch.device("cuda", env.local_rank)
            torch.cuda.set_device(device)
        else:
            device = torch.device("cpu")
        backend = "nccl" if device.type == "cuda" else "gloo"
        try:
            dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
        except (RuntimeError, ValueError) as exc:
            raise UserError(f"rank {env.rank} could not join the torchrun job ({_first_line(exc)})",
                            "check MASTER_ADDR/MASTER_PORT (torchrun's --rdzv-endpoint) and that every node can "
                            "reach it") from None
        return cls(env, device, seed)

    # --- the Parallel interface ----------------------------------------------------------------

    def setup_device(self, device: torch.device) -> torch.device:
        if self.device.type == "cpu":
            from core.training.devices import available_cores

            torch.set_num_threads(threads_per_rank(available_cores(), self.env.local_world_size))
        return self.device

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        if not self._resumed and self.rank > 0:
            # DDP copies rank 0's weights to every rank; dropout should differ between ranks.
            torch.manual_seed(self.seed + self.rank)
        if self.world_size == 1:
            return model  # no other rank's gradients to average: the plain step, without DDP's copies
        ids = [self.device.index] if self.device.type == "cuda" else None
        if self.device.type == "cpu":
            # A step touches a few hundred rows of a token table of thousands: as sparse gradients,
            # gloo sends those rows (hundreds of KB) instead of the whole table (8 MB for the
            # seed shape; ~11% more samples/s over 2 ranks). NCCL has no sparse all-reduce, so on
            # CUDA the table stays dense. The update itself is the dense one (see gradients_ready).
            # A table shared with another layer (tied weights) would get sparse and dense parts.
            uses = Counter(id(p) for _, p in model.named_parameters(remove_duplicate=False))
            for m in model.modules():
                if isinstance(m, torch.nn.Embedding) and m.weight.requires_grad and uses[id(m.weight)] == 1:
                    m.sparse = True
                    self._sparse.append(m.weight)
        # Gradients as views into DDP's all-reduce buckets: no copy into the buckets and back each
        # step (3-43% more samples/s over 2 gloo ranks in four paired runs; the weights are the same).
        return DistributedDataParallel(model, device_ids=ids, gradient_as_bucket_view=True)

    def gradients_ready(self) -> None:
        """Sparse token-table gradients, summed over the ranks, made dense again: clipping and
        Adam then see the gradient they would see on one process (Adam's moments decay on every
        row each step; a sparse optimizer would change the training)."""
        for weight in self._sparse:
            if weight.grad is not None and weight.grad.is_sparse:
                weight.grad = weight.grad.to_dense()

    def steps_per_epoch(self, split: Any, batch_size: int) -> int:
        steps = sharding.steps_per_epoch(len(split.labels), batch_size, self.world_size)
        if steps < 1:
            raise UserError(f"{len(split.labels)} training examples make fewer batches of {batch_size} than the "
                            f"{self.world_size} processes", "lower train.batch_size or start fewer processes")
        return steps

    def epoch_batches(self, split: Any, batch_size: int, seed: int) -> Iterator[Any]:
        self._last_mark = time.perf_counter()  # rates count training time, not setup or validation
        return sharding.iterate_rank_batches(split, batch_size, self.world_size, self.rank, seed)

    def evaluate(self, model: torch.nn.Module, split: Any, batch_size: int, device: torch.device, bf16: bool,
                 should_stop: Callable[[], bool]):
        """The exact evaluation of the whole split: each rank its shard, then every prediction
        gathered in the split's order. Not stoppable midway: all ranks must reach the gather."""
        from core.training.loop import EvalResult, evaluate

        lengths = [len(s) for s in split.ids]
        shard = sharding.validation_shard(lengths, self.world_size, self.rank)
        batches = list(sharding.iterate_shard(split, shard, batch_size))
        local = evaluate(model, iter(batches), device, bf16)
        order = [i for batch in batches for i in batch.indices]
        loss_sum = local.loss * len(order) if order else 0.0
        parts = self._gather((order, local.predictions, local.labels, loss_sum))
        merged = sorted((i, p, t) for o, ps, ts, _ in parts for i, p, t in zip(o, ps, ts))
        n = len(merged)
        if not n:
            return EvalResult(loss=float("nan"), accuracy=0.0, predictions=[], labels=[])
        predictions = [p for _, p, _ in merged]
        labels = [t for _, _, t in merged]
        return EvalResult(loss=sum(part[3] for part in parts) / n,
                          accuracy=sum(p == t for p, t in zip(predictions, labels)) / n,
                          predictions=predictions, labels=labels)

    def should_stop(self, asked: bool) -> bool:
        self._stop_calls += 1
        if self._stop_calls % STOP_CHECK_EVERY:
            return False
        return self.stop_now(asked)

    def stop_now(self, asked: bool) -> bool:
        """Whether any rank was asked to stop: every rank gets the same answer."""
        import torch.distributed as dist

        if self.world_size == 1:
            return asked
        flag = torch.tensor([1.0 if asked else 0.0], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def liveness(self, step: int, samples: int) -> list[dict[str, float]]:
        """Each rank's step and samples/s since the previous log point (a rank that falls
        behind shows a lower rate)."""
        import torch.distributed as dist

        now = time.perf_counter()
        rate = samples / max(now - self._last_mark, 1e-9)
        self._last_mark = now
        if self.world_size == 1:
            return []
        mine = torch.tensor([float(self.rank), float(step), rate], dtype=torch.float64, device=self.device)
        every = [torch.zeros_like(mine) for _ in range(self.world_size)]
        dist.all_gather(every, mine)
        return [{"rank": int(r), "step": int(s), "samples_per_s": float(x)}
                for r, s, x in (t.tolist() for t in every)]

    def sum_epoch(self, progress: Any) -> tuple[float, int, int]:
        import torch.distributed as dist

        if self.world_size == 1:
            return progress.epoch_loss_sum, progress.epoch_correct, progress.epoch_samples
        sums = torch.tensor([progress.epoch_loss_sum, float(progress.epoch_correct), float(progress.epoch_samples)],
                            dtype=torch.float64, device=self.device)
        dist.all_reduce(sums)
        total_loss, total_correct, total_samples = sums.tolist()
        return total_loss, int(round(total_correct)), int(round(total_samples))

    def checkpoint_state(self, progress: Any) -> dict[str, Any]:
        """Every rank's RNG state and epoch sums. The gather is also the barrier before rank 0
        writes: no rank is still inside the step the checkpoint describes."""
        self._progress = progress
        mine = {"rng": capture_rng_state(), "epoch_sums": self._epoch_sums()}
        return {"world_size": self.world_size, "ranks": self._gather(mine)}

    def resume(self, state: dict[str, Any], progress: Any, steps_per_epoch: int) -> None:
        self._resumed = True
        self._progress = progress
        ranks = rank_states(state)
        if saved_world_size(state) == self.world_size and len(ranks) == self.world_size:
            mine = ranks[self.rank]  # exact: this rank's own generator and sums
            if self.rank > 0:
                restore_rng_state(mine["rng"])
            self._set_epoch_sums(mine["epoch_sums"])
            return
        adapt_progress(progress, saved_world_size(state), self.world_size, steps_per_epoch)
        # Rank 0 carries the epoch's sums so far (summed at the epoch's end); the others start at 0.
        if ranks:
            totals = [sum(r["epoch_sums"][k] for r in ranks) for k in range(3)]
            self._set_epoch_sums(totals if self.rank == 0 else [0.0, 0, 0])
        elif self.rank > 0:
            self._set_epoch_sums([0.0, 0, 0])
        if self.rank > 0:
            torch.manual_seed(self.seed + self.rank + 7919 * progress.step)

    def failure(self, exc: BaseException) -> str | None:
        text = str(exc).lower()
        if self.world_size > 1 and isinstance(exc, RuntimeError) and any(w in text for w in _PEER_LOST):
            return f"rank {self.rank} {LOST_CONTACT}: {_first_line(exc)}"
        return None

    def share_encoder(self, data: Any, max_seq_len: int) -> Any:
        """``data`` encoded with rank 0's tokenizer, on every rank. Every rank trains its own
        from the same texts, and a WordPiece vocabulary need not come out the same on another
        node (another version of the tokenizers library; before core.data.tokenization
        numbered its pieces up front, any two trainings: the job then refused to start on 3 of
        3 cold starts on SST-2, see ``share_setup``)."""
        import torch.distributed as dist

        from core.data.prepare import reencoded
        from core.data.tokenization import encoder_from_state

        shared = [data.encoder.state() if self.is_main else None]
        dist.broadcast_object_list(shared, src=0)
        if self.is_main or shared[0] == data.encoder.state():
            return data
        return reencoded(data, encoder_from_state(shared[0]), max_seq_len)

    def share_setup(self, out_dir: str, data: Any) -> str:
        """Rank 0's run folder, on every rank; UserError when a rank prepared other data (each
        rank reads and tokenizes the data itself, which must give the same examples)."""
        mine = (out_dir, data_fingerprint(data))
        every = self._gather(mine)
        if any(fingerprint != every[0][1] for _, fingerprint in every):
            raise UserError("the processes of the job prepared different training data",
                            "give every node the same data files and settings")
        return every[0][0]

    def close(self) -> None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()

    # --- helpers ---------------------------------------------------------------------------------

    def _gather(self, value: Any) -> list[Any]:
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out

    def _epoch_sums(self) -> list[float]:
        p = self._progress
        return [p.epoch_loss_sum, p.epoch_correct, p.epoch_samples]

    def _set_epoch_sums(self, sums: list[float]) -> None:
        p = self._progress
        p.epoch_loss_sum, p.epoch_correct, p.epoch_samples = float(sums[0]), int(sums[1]), int(sums[2])


def rank_states(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-rank part of a checkpoint's state ([] when it has none); UserError when damaged."""
    from core.training.checkpoint_state import rng_problem

    ranks = state.get("ranks", [])
    damaged = not isinstance(ranks, list) or any(
        not isinstance(r, dict) or not isinstance(r.get("rng"), dict) or rng_problem(r["rng"]) is not None
        or not isinstance(r.get("epoch_sums"), list) or len(r["epoch_sums"]) != 3
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in r["epoch_sums"])
        for r in ranks)
    if damaged:
        raise UserError("the checkpoint's per-rank state ('ranks' in state.json) is damaged",
                        "resume from another checkpoint of the run (last/ or best/)")
    return ranks


def data_fingerprint(data: Any) -> str:
    """A digest of the encoded examples and labels of both splits."""
    digest = hashlib.sha256()
    for split in (data.train, data.val):
        digest.update(json.dumps([split.ids, split.labels], separators=(",", ":")).encode())
    return digest.hexdigest()


def _first_line(exc: BaseException) -> str:
    """The gist of an error: its first sentence, without gloo's source location."""
    text = re.sub(r"^\[[^\]]*\.(?:cc|cpp|h):\d+\]\s*", "", str(exc).strip())
    text = text.splitlines()[0] if text else type(exc).__name__
    return text.split(". ")[0]
