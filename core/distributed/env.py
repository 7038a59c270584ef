"""The job a process belongs to, as torchrun describes it in the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from core.errors import UserError

# What torchrun (and torch.distributed.run under SLURM) sets for every worker it starts.
_REQUIRED = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class JobEnv:
    rank: int  # 0 .. world_size - 1, across every node
    world_size: int
    local_rank: int  # 0 .. local_world_size - 1 on this node: the GPU index
    local_world_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def under_torchrun(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process was started as a worker of a torchrun job."""
    environ = os.environ if environ is None else environ
    return "WORLD_SIZE" in environ and "RANK" in environ


def read_env(environ: Mapping[str, str] | None = None) -> JobEnv:
    """The job from RANK/WORLD_SIZE/LOCAL_RANK (LOCAL_WORLD_SIZE optional); UserError when they
    are missing or make no sense."""
    environ = os.environ if environ is None else environ
    missing = [name for name in _REQUIRED if name not in environ]
    if missing:
        raise UserError(f"the torchrun environment lacks {', '.join(missing)}",
                        "start the job with torchrun (or `twb train --nproc-per-node N`)")
    values = {}
    for name in (*_REQUIRED, "LOCAL_WORLD_SIZE"):
        raw = environ.get(name)
        if raw is None:
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            raise UserError(f"{name}={raw!r} is not a whole number", "start the job with torchrun") from None
    world = values["WORLD_SIZE"]
    local_world = values.get("LOCAL_WORLD_SIZE", world)
    env = JobEnv(values["RANK"], world, values["LOCAL_RANK"], local_world)
    if world < 1 or not 0 <= env.rank < world or not 0 <= env.local_rank < local_world or local_world > world:
        raise UserError(f"inconsistent torchrun environment: RANK={env.rank} WORLD_SIZE={world} "
                        f"LOCAL_RANK={env.local_rank} LOCAL_WORLD_SIZE={local_world}",
                        "start the job with torchrun")
    return env


def threads_per_rank(cores: int, local_world_size: int) -> int:
    """CPU threads for each rank: this node's cores shared out, at least one."""
    return max(1, cores // max(1, local_world_size))
