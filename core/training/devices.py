"""Where training runs: picking the device, naming it, and measuring its memory."""
from __future__ import annotations

import ctypes
import math
import os
import resource
import sys
import threading
from typing import Any, Callable, TypeVar

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' is CUDA when a GPU is visible, else the CPU; 'cpu', 'cuda', 'cuda:N' as given."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def describe_device(device: torch.device) -> str:
    """'cpu (2 threads)' or 'cuda:0 (NVIDIA H100 80GB HBM3)': what the run header shows."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'' if threads == 1 else 's'})"


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, further capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def configure_threads() -> int:
    """Never run more torch threads than the cores this process may use.

    torch starts with the machine's physical core count, which over-subscribes a container or
    a taskset limited to fewer cores (threads then spin waiting for each other). Only lowers the
    count: a number the user or the caller chose (OMP_NUM_THREADS, torch.set_num_threads) stays.
    """
    cores = available_cores()
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)
    return torch.get_num_threads()


T = TypeVar("T")
BESIDE_TRAINING_NICENESS = 10  # about a tenth of a core contended with training (Linux CFS weights)


def beside_training(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a new thread of low CPU priority, for work that must not slow
    a run training in this process (explanations and the errors browser, from snapshots); returns
    its result or raises its exception.

    On a machine whose cores training keeps busy, such work would otherwise take its share of
    them: the scheduler now gives it the time training leaves idle, and little more. Linux gives
    each thread its own nice value and the threads it starts (torch's) inherit it. A thread of
    its own because the value cannot be raised back without privileges, and worker threads are
    pooled. Elsewhere it just runs at normal priority.
    """
    outcome: dict[str, Any] = {}

    def body() -> None:
        if sys.platform == "linux":
            try:
                tid = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, tid, max(BESIDE_TRAINING_NICENESS, os.getpriority(os.PRIO_PROCESS, tid)))
            except OSError:
                pass  # not allowed here: normal priority
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=body, name="twb-beside-training", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_rss_bytes() -> int | None:
    """Resident memory of this process right now (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int | None:
    try:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (OSError, ValueError):
        return None
    return int(kib) * 1024  # Linux reports kibibytes


def memory_bytes(device: torch.device) -> int | None:
    """GPU memory held by tensors on CUDA; the process's resident memory on the CPU."""
    if device.type == "cuda":
        return int(torch.cuda.memory_allocated(device))
    return process_rss_bytes()


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# Blocks from here up are still mapped afresh (and unmapped on free): glibc's own ceiling for its
# adaptive threshold. With 1 GiB instead, MiniLM fine-tuning peaked 0.1-0.17 GiB higher (its
# embedding-sized buffers stayed in the heap), for no measurable speed.
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep the memory a training step frees, for the next step; False where
    the C library is not glibc (nothing changes there).

    A step on the CPU allocates and frees the same few hundred tensors of tens of KiB to a few
    MiB. By default glibc serves the larger ones with fresh mappings until its adaptive mmap
    threshold has grown past them, and hands the top of its heap back to the system whenever
    more than twice that threshold is free there, so steps kept faulting their activations'
    pages in again: on SST-2 with the tutorial's shape, about a fifth of the step. With the
    threshold at 32 MiB and the trim threshold at 1 GiB the pages stay; the process's resident
    memory then stays near its peak instead of shrinking between steps.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # musl: its mallopt does nothing
        return False
    return (libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) == 1
            and libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD) == 1)


def release_cuda_memory() -> None:
    """Hand cached blocks back after an out-of-memory error so the process can go on."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
