"""`twb train --nproc-per-node N`: a standalone torchrun job of twb's own training entry point.

The job is started in this process with torchrun's own launcher (``torch.distributed.launcher.
elastic_launch``, what the ``torchrun`` command runs): N workers run `twb train ...`
(``run_worker``), rendezvous through c10d on this machine, and each reads its rank from the
environment. The workers are forked from multiprocessing's fork server, which
``start_worker_server`` starts before this process checks the settings and the data, and which
imports torch and the training modules meanwhile: a worker then starts ready to train instead
of importing torch itself, and never inherits this process's threads or CUDA state, as a
plain fork would. What can be refused is refused before anything starts (more processes than
GPUs, a port in use); a failed job ends in one line naming the rank that failed and why, from
the error file each worker's ``record`` wrapper writes; a signal stops every worker (rank 0
saves the interrupt checkpoint) and exits with 128 + the signal.
"""
from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import tempfile
import uuid
from typing import Any, Iterable

from core.errors import ERROR_PREFIX, UserError

# Our worker's failures start so when they only report that another rank went away.
LOST_CONTACT = "lost contact with the job"
# Sent to workers on a signal or a failure; how long they get to save before SIGKILL.
SHUTDOWN_TIMEOUT_S = 60
# How often the launcher looks at its workers. When one fails it stops the others with SIGTERM,
# which a rank that has not yet noticed the loss takes for a user's stop ("SIGTERM received,
# saving ..."): a quarter second gives the others time to notice first (under load, a tenth did
# not always), for at most that much later an exit.
MONITOR_INTERVAL_S = 0.25
# What the fork server imports before it forks the first worker: torch (1.5-2 s of CPU, which
# each worker paid when it started as a fresh interpreter) and what `twb train` runs on a rank.
# Not core.cli: a forked worker runs the launcher's main module again (multiprocessing does, as
# __mp_main__), and runpy warns when that module was imported already.
WORKER_MODULES = ("torch", "torch.distributed", "torch.nn.parallel", "torch.distributed.elastic.multiprocessing.errors",
                  "core.commands.train", "core.commands.train_ddp", "core.distributed.ddp",
                  "core.training.trainer", "core.data.prepare", "core.distributed.in_fork_server")


def start_worker_server() -> None:
    """Start the fork server the job's workers will be forked from, importing ``WORKER_MODULES``
    while this process goes on (it is a fresh interpreter: none of this process's threads,
    locks or CUDA state). It exits with this process."""
    import multiprocessing
    from multiprocessing import forkserver, resource_tracker

    # The resource tracker multiprocessing starts with the server ignores SIGINT and SIGTERM but
    # not SIGHUP: a dropped terminal killed it mid-job, and the launcher's clean-up then printed
    # a traceback for each of its semaphores. Started with SIGHUP ignored, it keeps ignoring it
    # (and exits with this process, as before).
    hang_up = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, hang_up)
    multiprocessing.set_forkserver_preload(list(WORKER_MODULES))
    forkserver.ensure_running()


def run_worker(*argv: str) -> None:
    """One worker of the job, in a process forked from the fork server: `twb train <argv>` on the
    rank its environment names. A failure raises SystemExit with the run's exit code (what
    torchrun's wrapper reports for the rank); the fork server's child ends without the
    interpreter's teardown (os._exit), as a worker started by torchrun does (core.commands.train_ddp)."""
    from core.cli import main

    code = main(list(argv))
    if code:
        raise SystemExit(code)


def check_nproc(nproc: int, device_type: str, gpus: int, cores: int) -> None:
    """UserError when the job cannot have ``nproc`` processes on this machine."""
    if nproc < 1:
        raise UserError(f"--nproc-per-node {nproc} must be at least 1", "pass the number of processes to start")
    if device_type == "cuda" and nproc > gpus:
        raise UserError(f"--nproc-per-node {nproc} is more than the {gpus} GPU(s) present",
                        f"start at most {gpus}, or train on the CPU with --set train.device=cpu")
    if device_type == "cpu" and nproc > max(2, cores):
        raise UserError(f"--nproc-per-node {nproc} is more than the {cores} CPU cores this process may use",
                        f"start at most {max(2, cores)}: more processes than cores only wait for each other")


def check_port(port: int, host: str = "127.0.0.1") -> None:
    """UserError naming ``port`` when something already listens there (or it cannot be used)."""
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a TCP port", "pick a port between 1024 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"port {port} is already in use ({exc.strerror or exc})",
                            "pick another with --port, or leave --port out to use a free one") from None


def namespace_argv(parser: argparse.ArgumentParser, args: argparse.Namespace, drop: Iterable[str]) -> list[str]:
    """The command line that parses back to ``args`` (options left at their default omitted),
    without the options whose destinations are in ``drop``."""
    drop = set(drop)
    argv: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in drop or action.dest == "help":
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default or value is None:
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") else action.option_strings[0]
        if isinstance(action, argparse._StoreTrueAction):
            argv.append(flag)
        elif isinstance(action, argparse._AppendAction):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


def launch(nproc: int, worker_argv: list[str], port: int | None = None) -> int:
    """Run `twb <worker_argv>` in ``nproc`` workers forked from the fork server (started now
    unless ``start_worker_server`` already did); the job's exit code."""
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # torchrun's agent logs its own account of signals and failures (each module's logger has
    # its own level); the lines below replace it.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("torch.distributed", "torch.multiprocessing")):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    # The workers' error files go to a folder of this job's, removed with it (torchrun leaves one in /tmp).
    with tempfile.TemporaryDirectory(prefix="twb-torchrun-") as logs:
        config = LaunchConfig(
            min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=str(uuid.uuid4()), rdzv_backend="c10d",
            rdzv_endpoint=f"127.0.0.1:{port or 0}", max_restarts=0, monitor_interval=MONITOR_INTERVAL_S,
            start_method="forkserver", local_addr="127.0.0.1", logs_specs=DefaultLogsSpecs(log_dir=logs),
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        start_worker_server()
        try:
            return _run(elastic_launch(config, run_worker), worker_argv, nproc)
        finally:
            _signals_end_this_process()


def _signals_end_this_process() -> None:
    """Once the job is over, a signal simply ends this process. torchrun's launcher leaves its
    handlers installed, which raise; a second Ctrl-C during the second it takes this process to
    exit (tearing down torch) printed a traceback from inside that teardown."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def _run(job: Any, worker_argv: list[str], nproc: int) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    try:
        job(*worker_argv)
    except ChildFailedError as exc:
        codes = {f.exitcode for f in exc.failures.values()}
        if all(code is not None and code > 128 for code in codes):
            return max(codes)  # a signal to a worker stopped the job: rank 0 saved and said so
        rank, line = describe_failure(exc.failures, nproc)
        # Rank 0 prints its own errors, except that it lost contact with the others.
        if rank != 0 or recorded_message(exc.failures[rank]) is None or LOST_CONTACT in line:
            print(f"{ERROR_PREFIX}{line}", file=sys.stderr, flush=True)
        return 1
    except SignalException as exc:
        return 128 + int(exc.sigval)
    return 0


def describe_failure(failures: dict[int, Any], nproc: int) -> tuple[int, str]:
    """One line for the rank that failed first: the root cause before ranks that only lost it.
    The launcher stops every other worker of the ``nproc`` when one fails; ``failures`` holds the
    one it saw first (a group of forked workers reports one), or more."""
    def order(item: tuple[int, Any]) -> tuple[int, int, int]:
        rank, failure = item
        message = _message(failure)
        return (LOST_CONTACT in message, failure.timestamp, rank)

    rank, failure = min(failures.items(), key=order)
    others = max(nproc, len(failures)) - 1
    tail = f" ({others} other rank{'s' if others != 1 else ''} stopped with it)" if others else ""
    return rank, f"rank {rank} (pid {failure.pid}) {_message(failure)}{tail}"


def recorded_message(failure: Any) -> str | None:
    """The message ``record`` wrote to a worker's error file, without its exception type; None
    when the worker wrote none (killed, or it exited without raising)."""
    data = failure.error_file_data if isinstance(failure.error_file_data, dict) else {}
    message = data.get("message")
    if isinstance(message, dict):  # {"message": "Type: text", "extraInfo": {...}}
        message = message.get("message")
    if not isinstance(message, str) or message == "<NONE>":
        return None
    text = message.strip().splitlines()[0] if message.strip() else ""
    for prefix in ("RankFailed: ", "UserError: "):
        text = text.removeprefix(prefix)
    return text


def _message(failure: Any) -> str:
    recorded = recorded_message(failure)
    if recorded is not None:
        return f"failed: {recorded}"
    if failure.exitcode is not None and failure.exitcode < 0:
        try:
            name = signal.Signals(-failure.exitcode).name
        except ValueError:
            name = f"signal {-failure.exitcode}"
        return f"was killed by {name}"
    return f"exited with code {failure.exitcode}"
