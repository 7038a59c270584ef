"""Where training runs: picking the device, naming it, and measuring its memory."""
from __future__ import annotations

import os
import resource

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
    return f"cpu ({torch.get_num_threads()} threads)"


def configure_threads() -> int:
    """Use every core this process may run on, unless the user pinned a number.

    torch defaults to the machine's physical core count, which over-subscribes a container or
    a taskset limited to fewer cores; OMP_NUM_THREADS set by the user always wins.
    """
    if not os.environ.get("OMP_NUM_THREADS"):
        try:
            available = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            available = os.cpu_count() or 1
        if available != torch.get_num_threads():
            torch.set_num_threads(max(1, available))
    return torch.get_num_threads()


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


def release_cuda_memory() -> None:
    """Hand cached blocks back after an out-of-memory error so the process can go on."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
