"""`twb train` as a torch.distributed job: launching one, and one rank's part in it.

``run_job`` is where `twb train` goes with ``--nproc-per-node N`` or when torchrun started it.
Outside torchrun it launches the job (core.distributed.launch) after checking what can be
checked first: the settings, the number of GPUs, the port, and a data file (by preparing it).
Inside, it joins the process group and runs the ordinary `twb train` on this rank, wrapped in
torchrun's ``record`` so a failure's message reaches the launcher's error file; ranks other
than 0 print nothing.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time

from core import events as ev
from core.config import ConfigError, RunConfig, check
from core.errors import ERROR_PREFIX, UserError

# torchrun's own worker options, never passed on to the workers.
_LAUNCH_OPTIONS = ("nproc_per_node", "port")
LOST_CONTACT_GRACE_S = 1.0  # how much later a rank that lost the others ends than the one that failed


class RankFailed(Exception):
    """This rank's run failed; its message goes to torchrun's error file, no traceback printed."""


def run_job(args: argparse.Namespace) -> int:
    from core.distributed.env import under_torchrun

    if under_torchrun():
        return run_rank(args)
    return launch_job(args)


def launch_job(args: argparse.Namespace) -> int:
    """Check, then start ``--nproc-per-node`` workers of `twb train` with the same options."""
    from core.commands.train import build_config
    from core.distributed.launch import check_nproc, check_port, launch, namespace_argv, start_worker_server

    config = check(build_config(args))
    start_worker_server()  # imports torch for the workers while this process checks and prepares

    import torch

    from core.training.devices import available_cores, resolve_device

    device = resolve_device(config.train.device)
    check_nproc(args.nproc_per_node, device.type, torch.cuda.device_count() if device.type == "cuda" else 0,
                available_cores())
    if args.port is not None:
        check_port(args.port)
    if config.data.source == "file":
        check_data_file(config)
    worker_argv = ["train", *namespace_argv(args.train_parser, args, _LAUNCH_OPTIONS)]
    return launch(args.nproc_per_node, worker_argv, args.port)


def check_data_file(config: RunConfig) -> None:
    """Prepare the job's data here, once, before any worker starts: a damaged or unsuitable file
    is then one line and exit 2 in a second or two, as with one process, instead of N workers
    each importing torch to fail on it. The workers read what this prepared from the data cache
    (where the cache cannot be written, each prepares it again, as before)."""
    from core.data.prepare import prepare_data

    data = prepare_data(config.data, config.model, config.train.seed)
    check(config, train_size=len(data.train.labels))


def run_rank(args: argparse.Namespace) -> int:
    """This process's rank of the job: train, leave the process group, then end with the run's
    code (``_leave``)."""
    from torch.distributed.elastic.multiprocessing.errors import record

    from core.commands.train import build_config, run
    from core.distributed.ddp import DistributedRun
    from core.distributed.env import read_env
    from core.distributed.launch import LOST_CONTACT
    from core.distributed.lifetime import signal_when_parent_dies

    env = read_env()
    # A launcher killed with SIGKILL must not leave its workers training on, orphaned, to the end of
    # the run: SIGTERM when the parent (the launcher's fork server, which dies with it, or torchrun's
    # agent) dies stops this rank as the launcher's own SIGTERM does (rank 0 saves interrupt/).
    signal_when_parent_dies(signal.SIGTERM)
    failures: list[str] = []

    def note_failure(event: ev.Event) -> None:
        if isinstance(event, ev.TrainingFailed):
            failures.append(event.message)

    @record
    def rank_main() -> int:
        try:
            config = check(build_config(args))
            parallel = DistributedRun.start(env, config.train.device, config.train.seed)
        except (UserError, ConfigError) as exc:
            raise RankFailed(_said(env.is_main, exc)) from None
        try:
            code = run(args, parallel=parallel, on_event=note_failure)
        except (UserError, ConfigError) as exc:
            raise RankFailed(_said(env.is_main, exc)) from None
        finally:
            parallel.close()
        if code == 1:
            raise RankFailed(failures[0] if failures else "training failed")
        return code

    try:
        code = rank_main()
    except RankFailed:
        code = 1  # record wrote the message for the launcher; rank 0 has printed it
        if failures and LOST_CONTACT in failures[0]:
            # The launcher names the first failed worker it sees, and a group of forked workers
            # shows it one (core.distributed.launch): leave it time to see the rank that failed
            # first, which this one only lost (it looks every quarter second).
            time.sleep(LOST_CONTACT_GRACE_S)
    return _leave(code)


def _leave(code: int) -> int:
    """End this rank without the interpreter's teardown. Once the run has ended (its checkpoints,
    session and report written, the process group left), freeing torch's and gloo's C++ objects
    at exit sometimes aborted a rank whose run had finished ("terminate called without an active
    exception" with no Python frame left: once in five runs of the DDP tests here), and the
    launcher then failed the whole job. Nothing is left to do but flush, then exit, or return
    the code to `twb train --nproc-per-node`'s worker wrapper where this process was forked from
    its fork server (core.distributed.launch), which ends it with os._exit itself."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away: nothing more can reach it
            pass
    if multiprocessing.parent_process() is not None:
        return code
    os._exit(code)


def _said(main: bool, exc: Exception) -> str:
    """Rank 0 prints a user error as `twb train` always does; every rank records it."""
    lines = [str(e) for e in exc.errors] if isinstance(exc, ConfigError) else [str(exc)]
    if main:
        for line in lines:
            print(f"{ERROR_PREFIX}{line}", file=sys.stderr, flush=True)
    return "; ".join(lines)
