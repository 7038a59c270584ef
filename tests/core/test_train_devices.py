import sys
from pathlib import Path

import pytest
import torch

from core.training.devices import configure_threads, describe_device, memory_bytes, peak_rss_bytes, resolve_device

ROOT = Path(__file__).resolve().parents[2]


def test_auto_picks_cuda_only_when_present():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


def test_cpu_description_and_memory_are_real_numbers():
    assert describe_device(torch.device("cpu")).startswith("cpu (")
    rss = memory_bytes(torch.device("cpu"))
    assert rss is not None and 10 * 2**20 < rss <= peak_rss_bytes() * 1.01


def test_thread_count_is_only_ever_lowered():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert configure_threads() == 1  # a caller's lower choice stays
        torch.set_num_threads(512)
        assert configure_threads() <= len(__import__("os").sched_getaffinity(0))
    finally:
        torch.set_num_threads(before)


# A step's worth of activations, freed together, five times: 200 tensors of 64 KiB to 1 MiB and
# one of 24 MiB.
_STEPS_OF_ALLOCATIONS = """
import ctypes, resource, torch
from core.training.devices import _M_MMAP_THRESHOLD, _M_TRIM_THRESHOLD, keep_freed_memory

SIZES = [16_384 * (1 + i % 16) for i in range(200)] + [6 << 20]  # float32 elements

def page_faults_of_five_steps():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        held = [torch.ones(n) for n in SIZES]
        del held
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

# glibc's starting thresholds (128 KiB), fixed: as it adapts them, whether it happens to fault
# again varies from process to process.
libc = ctypes.CDLL(None)
libc.mallopt(_M_MMAP_THRESHOLD, 128 << 10), libc.mallopt(_M_TRIM_THRESHOLD, 128 << 10)
page_faults_of_five_steps()
default = page_faults_of_five_steps()
kept = keep_freed_memory()
page_faults_of_five_steps()  # the first steps after the call may still grow the heap
print(5 * sum(SIZES) * 4 // 4096, default, kept, page_faults_of_five_steps())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_after_keep_freed_memory_steps_reuse_their_pages_instead_of_faulting_them_in_again():
    import subprocess

    done = subprocess.run([sys.executable, "-c", _STEPS_OF_ALLOCATIONS], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    pages, default, kept, faults = done.stdout.split()
    if kept != "True":
        pytest.skip("the C library is not glibc")
    pages = int(pages)  # that the five steps touch
    assert int(default) > pages // 10  # what the trainer avoids: freed pages went back to the system
    assert int(faults) < pages // 1000
